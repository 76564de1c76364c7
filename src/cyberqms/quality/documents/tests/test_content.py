"""A version's content: Markdown rendered without raw HTML, images or unsafe links, and the
line-by-line comparison of two texts (fuzzed: neither ever fails on any text)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ..content import DiffRow, diff_rows, render_markdown


def test_raw_html_in_a_document_is_shown_as_text() -> None:
    assert render_markdown("Hello <script>alert(1)</script>") == (
        "<p>Hello &lt;script&gt;alert(1)&lt;/script&gt;</p>\n")


def test_a_javascript_link_is_not_a_link() -> None:
    assert render_markdown("[click](javascript:alert(1))") == (
        "<p>[click](javascript:alert(1))</p>\n")


def test_an_image_becomes_a_link_never_fetched() -> None:
    assert render_markdown("![logo](https://example.org/x.png)") == (
        '<p>!<a href="https://example.org/x.png">logo</a></p>\n')


def test_headings_lists_and_tables_render() -> None:
    html = render_markdown("# Scope\n\n1. One\n\n| A | B |\n|---|---|\n| 1 | 2 |\n")
    assert html == (
        "<h1>Scope</h1>\n<ol>\n<li>One</li>\n</ol>\n<table>\n<thead>\n<tr>\n<th>A</th>\n"
        "<th>B</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n"
        "</tbody>\n</table>\n")


def test_a_changed_line_is_shown_beside_the_old_one() -> None:
    assert diff_rows("a\nb\nc\n", "a\nB\nc\nd\n") == [
        DiffRow("same", 1, "a", 1, "a"), DiffRow("changed", 2, "b", 2, "B"),
        DiffRow("same", 3, "c", 3, "c"), DiffRow("added", None, "", 4, "d")]


def test_distant_changes_are_separated_by_a_gap() -> None:
    old = "\n".join(str(i) for i in range(20))
    new = old.replace("1\n", "one\n", 1).replace("18", "eighteen")
    kinds = [row.kind for row in diff_rows(old, new, context=1)]
    assert kinds == ["same", "changed", "same", "gap", "same", "changed", "same"]


def test_the_same_text_has_no_rows() -> None:
    assert diff_rows("same\n", "same\n") == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_renders(text: str) -> None:
    html = render_markdown(text)
    assert "<script" not in html
    assert "<img" not in html


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500), st.text(max_size=500))
def test_any_two_texts_compare_and_cover_every_line(old: str, new: str) -> None:
    rows = diff_rows(old, new, context=10**6)
    assert [r.new for r in rows if r.new_no is not None] == (
        new.splitlines() if old.splitlines() != new.splitlines() else [])


def test_a_long_repetitive_text_compares_at_once() -> None:
    """A crafted body (the same line 50 000 times) must not make the comparison quadratic."""
    old = "a\n" * 50_000
    rows = diff_rows(old, old + "b\n")
    assert [(r.kind, r.new) for r in rows if r.kind != "same"] == [("added", "b")]
