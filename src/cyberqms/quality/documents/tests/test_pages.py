"""The document's pages: the content and versions on its page, the revision form, the
comparison, and the controlled copy with its header and footer on every page and the
signature manifestation."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from pypdf import PdfReader

from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.kit.record_services import record_update
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import record_in_state

from ..enums import DocumentState
from ..models import DocumentVersion
from ..services import document_revise

pytestmark = pytest.mark.django_db
S = DocumentState
LONG = "# Procedure\n\n" + "\n\n".join(f"{i}. Step {i}: check the record." for i in range(1, 90))


@pytest.fixture
def effective(personas: dict[str, Any]) -> DocumentVersion:
    site = SiteFactory.create(code="MUC", name="Site MUC")
    version = record_in_state(kind_by_slug("documents"), S.EFFECTIVE, personas, site=site,
                              body=LONG)
    assert isinstance(version, DocumentVersion)
    return version


def _pages(response: Any) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]


def test_the_page_shows_the_content_as_written(effective: DocumentVersion,
                                                personas: dict[str, Any], login: Any) -> None:
    response = login(personas["auditor"]).get(reverse("documents:detail", args=[effective.pk]))
    content = response.content.decode()
    assert (response.status_code, "<h1>Procedure</h1>" in content,
            'data-testid="revise-form"' in content) == (200, True, False)


def test_the_owner_is_offered_a_revision(effective: DocumentVersion, personas: dict[str, Any],
                                         login: Any) -> None:
    response = login(personas["author"]).get(reverse("documents:detail", args=[effective.pk]))
    assert 'data-testid="revise-form"' in response.content.decode()


def test_a_revision_started_from_the_page_opens_the_draft(
        effective: DocumentVersion, personas: dict[str, Any], login: Any) -> None:
    response = login(personas["author"]).post(
        reverse("documents:revise", args=[effective.pk]),
        {"size": "minor", "change_summary": "Step 3 reworded."})
    draft = DocumentVersion.objects.get(minor=1)
    assert (response.status_code, response["Location"], draft.number) == (
        302, reverse("documents:detail", args=[draft.pk]), "SOP-IT-0001 v1.1")


def test_a_refused_revision_says_why_on_the_page(effective: DocumentVersion,
                                                 personas: dict[str, Any], login: Any) -> None:
    response = login(personas["author"]).post(
        reverse("documents:revise", args=[effective.pk]), {"size": "minor"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "What changed: Say what the revision changes."]


def test_the_comparison_page_marks_the_changed_line(
        effective: DocumentVersion, personas: dict[str, Any], login: Any) -> None:
    draft = document_revise(effective, actor=personas["author"], size="minor",
                            change_summary="Step 3 reworded.")
    record_update(draft, actor=personas["author"],
                  changes={"body": LONG.replace("Step 3: check", "Step 3: verify")})
    response = login(personas["auditor"]).get(
        reverse("documents:compare", args=[draft.pk, effective.pk]))
    assert (response.status_code, response.context["added"], response.context["removed"],
            [r.new for r in response.context["rows"] if r.kind == "changed"]) == (
        200, 1, 1, ["3. Step 3: verify the record."])


def test_the_controlled_copy_repeats_number_version_and_state_on_every_page(
        effective: DocumentVersion, personas: dict[str, Any], login: Any) -> None:
    response = login(personas["auditor"]).get(reverse("documents:copy", args=[effective.pk]))
    pages = [" ".join(page.split()) for page in _pages(response)]
    header = "SOP-IT-0001 · Version 1.0"
    status = f"Status: Effective Effective date: {effective.effective_date}"
    assert (response["Content-Type"], len(pages) > 2,
            all(header in p and status in p and "UNCONTROLLED WHEN PRINTED" in p
                for p in pages)) == ("application/pdf", True, True)


def test_the_controlled_copy_ends_with_the_signature_manifestation(
        effective: DocumentVersion, personas: dict[str, Any], login: Any) -> None:
    pages = _pages(login(personas["auditor"]).get(
        reverse("documents:copy", args=[effective.pk])))
    last = " ".join(pages[-1].split())
    assert ("Signature manifestation" in last, "Reviewed" in last,
            "Approved (IT security) It Security (it_security)" in last,
            "Approved Qa Approver (qa_approver)" in last) == (
        True, True, True, True)


def test_a_draft_copy_says_it_is_not_in_force(effective: DocumentVersion,
                                              personas: dict[str, Any], login: Any) -> None:
    draft = document_revise(effective, actor=personas["author"], size="major",
                            change_summary="New layout.")
    pages = _pages(login(personas["auditor"]).get(reverse("documents:copy", args=[draft.pk])))
    assert ("DRAFT — NOT IN FORCE" in pages[0], "Draft" in pages[0]) == (True, True)


def test_the_api_gives_the_controlled_copy(effective: DocumentVersion,
                                           personas: dict[str, Any], login: Any) -> None:
    response = login(personas["auditor"]).get(
        f"/api/v1/documents/{effective.pk}/controlled-copy")
    assert (response.status_code, response["Content-Type"], response.content[:5]) == (
        200, "application/pdf", b"%PDF-")
