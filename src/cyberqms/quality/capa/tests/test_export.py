"""The CAPA's copies carry its actions table next to the fields, signatures and trail
(P11-03, A11-14)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from cyberqms.quality.capa.enums import CapaState as S
from cyberqms.quality.capa.tests.factories import capa_in_state, prepare_signers

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    return prepare_signers(personas)


def test_json_and_pdf_copies_list_the_actions_p11_03(people: dict[str, Any], login: Any) -> None:
    capa = capa_in_state(S.CLOSED, people)
    actions = list(capa.actions.order_by("pk"))
    client = login(people["auditor"])
    document = client.get(f"/records/capa/{capa.pk}/json/").json()
    section = document["sections"][0]
    assert (section["title"], [row[1] for row in section["rows"]]) == (
        "Corrective and preventive actions", [a.description for a in actions]
    )
    assert [s["meaning"] for s in document["record"]["signatures"]] == [
        "Approved", "Verified", "Closed"
    ]
    closed_at = next(f["value"] for f in document["fields"] if f["label"] == "Closed at")
    assert closed_at == capa.closed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    pdf = client.get(f"/records/capa/{capa.pk}/pdf/")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Corrective and preventive actions" in text
    assert capa.number in text
