"""The one CSV writer of every list (AL-02 legible, durable exports): cells in words and
ISO 8601 UTC, no formula a spreadsheet would run, UTF-8 with a byte-order mark, streamed."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cyberqms.platform.core.csv_export import CsvColumn, csv_cell, csv_lines, csv_response


@pytest.mark.parametrize(("text", "cell"), [
    ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
    ("+41 61 000 00 00", "'+41 61 000 00 00"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("Cold room = 9 °C", "Cold room = 9 °C"),
])
def test_a_text_a_spreadsheet_would_run_as_a_formula_is_defused(text: str, cell: str) -> None:
    assert csv_cell(text) == cell


def test_numbers_stay_numbers_even_when_negative() -> None:
    assert [csv_cell(-5), csv_cell(Decimal("-1.50")), csv_cell(2.5)] == ["-5", "-1.50", "2.5"]


def test_a_moment_is_written_in_iso_8601_utc() -> None:
    zurich = dt.datetime(2026, 12, 6, 14, 5, 9, 123456, tzinfo=ZoneInfo("Europe/Zurich"))
    assert csv_cell(zurich) == "2026-12-06T13:05:09Z"


def test_dates_yes_no_and_nothing_are_written_in_words() -> None:
    assert [csv_cell(dt.date(2026, 12, 6)), csv_cell(True), csv_cell(False), csv_cell(None)] \
        == ["2026-12-06", "Yes", "No", ""]


def test_the_file_starts_with_a_byte_order_mark_and_the_headings() -> None:
    columns = [CsvColumn("Name", lambda row: row[0]), CsvColumn("Städte", lambda row: row[1])]
    text = "".join(csv_lines(columns, [("Zoë", "Zürich, Genève")]))
    assert text == "\ufeffName,Städte\r\nZoë,\"Zürich, Genève\"\r\n"


def test_rows_are_streamed_in_chunks() -> None:
    columns = [CsvColumn("N", lambda n: n)]
    chunks = list(csv_lines(columns, range(1200)))
    assert [len(list(csv.reader(io.StringIO(c.removeprefix("\ufeff"))))) for c in chunks] == [
        1, 500, 500, 200]


def test_the_response_is_a_utf8_csv_attachment() -> None:
    response = csv_response("alerts.csv", [CsvColumn("N", lambda n: n)], [1])
    assert (response["Content-Type"], response["Content-Disposition"],
            b"".join(response.streaming_content)) == (
        "text/csv; charset=utf-8", 'attachment; filename="alerts.csv"',
        "\ufeffN\r\n1\r\n".encode())
