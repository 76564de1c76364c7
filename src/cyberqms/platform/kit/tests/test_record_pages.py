"""The record pages kit through HTTP, on deviations: state and actions with the refusal
shown before trying (P11-11), signing forms and signing (P11-14, P11-18, P11-19), wrong
passwords (P11-33), superseded signatures (P11-20), attachments, links both ways (AL-10),
the PDF and JSON copies (P11-03, A11-14) and site scoping (P11-05)."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from cyberqms.conftest import PASSWORD
from cyberqms.platform.accounts.services import user_verify_identity
from cyberqms.platform.core.models import Attachment, SecurityEvent, Signature, SignatureCommitment
from cyberqms.platform.kit.record_pages import record_json, signatures_of
from cyberqms.platform.kit.record_parts import link_add
from cyberqms.platform.kit.signatures import manifestation
from cyberqms.platform.trail.canonical import canonical_json
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.deviations import services
from cyberqms.quality.deviations.models import Deviation
from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state, ready_to_sign
from cyberqms.quality.deviations.workflow import DEVIATION_WORKFLOW

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]
TYPE = "deviations.deviation"
ZONED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(UTC\+0000\)$")


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    ready_to_sign(personas["qa_manager"], personas["admin"])
    ready_to_sign(personas["qa_approver"], personas["admin"])
    return personas


@pytest.fixture
def site() -> Any:
    return a_site("MUC")


def _detail(d: Deviation) -> str:
    return reverse("deviations:detail", args=[d.pk])


def _url(name: str, d: Deviation, *more: Any) -> str:
    return reverse(f"records:{name}", args=["deviations", d.pk, *more])


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _page(client: Client, d: Deviation) -> str:
    response = client.get(_detail(d))
    assert response.status_code == 200
    return response.content.decode()


def _actions(page: str) -> tuple[list[str], dict[str, str]]:
    """(actions offered with a form, {refused action: the refusal shown})."""
    offered = re.findall(r'<details class="action-card" data-action="(\w+)"(?: open)?>', page)
    refused = {
        action: html.unescape(why) for action, why in re.findall(
            r'<div class="action-card refused" data-action="(\w+)">.*?'
            r'<p class="muted small">(.*?)</p>', page, re.S)
    }
    return offered, refused


def _form(page: str, action: str) -> str:
    found = re.search(
        rf'<details class="action-card" data-action="{action}"(?: open)?>(.*?)</details>', page,
        re.S,
    )
    assert found is not None
    return found.group(1)


def _open_cards(page: str) -> list[str]:
    return re.findall(r'<details class="action-card" data-action="(\w+)" open>', page)


def _reason_field(form: str) -> tuple[str, bool]:
    """(the reason's label, whether the browser requires it)."""
    found = re.search(r"<label>(Reason.*?)<textarea ([^>]*)>", form, re.S)
    assert found is not None
    return _text(found.group(1)), " required" in f" {found.group(2)}"


def _reason_typed(form: str) -> str:
    found = re.search(r'<textarea name="reason"[^>]*>(.*?)</textarea>', form, re.S)
    assert found is not None
    return html.unescape(found.group(1))


def _field_errors(form: str) -> dict[str, str]:
    """{input: the error shown next to it and naming it in aria-describedby}."""
    errors = {ref: _text(text) for ref, text in re.findall(
        r'<p class="errorlist" id="([\w-]+)"[^>]*>(.*?)</p>', form, re.S)}
    return {name: errors[ref] for name, ref in re.findall(
        r'<(?:input|textarea) [^>]*name="(\w+)"[^>]*aria-describedby="([\w-]+)"', form)
        if ref in errors}


def _signature_rows(page: str) -> list[str]:
    return [_text(row) for row in re.findall(r'<tr class="manifestation">(.*?)</tr>', page, re.S)]


def _inputs(form: str) -> list[tuple[str, str]]:
    return [(t, n) for t, n in re.findall(r'<input type="(\w+)" name="(\w+)"', form)
            if n != "csrfmiddlewaretoken"]


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _own_deviation(people: dict[str, Any], site: Any) -> Deviation:
    """A deviation in QA review originated and owned by a QA reviewer (who may approve)."""
    reviewer = people["qa_approver"]
    cast = {**people, "author": reviewer, "qa_approver": people["qa_manager"]}
    return deviation_in_state(cast, "qa_review", site=site)


# --- the action bar ---------------------------------------------------------------------------


def test_detail_shows_state_and_available_actions(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    d = deviation_in_state(people, "draft", site=site)
    page = _page(login(people["author"]), d)
    assert re.findall(r'data-testid="record-state">(.*?)</span>', page) == ["Draft"]
    offered, refused = _actions(page)
    assert offered == ["submit"]
    # cancelling is QA's: outside the author's roles, so not shown at all
    assert refused == {}
    submit = _form(page, "submit")
    assert 'name="password"' not in submit
    assert f'action="{_url("transition", d, "submit")}"' in submit


def test_originator_sees_someone_else_must_approve_before_trying_p11_11(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    d = _own_deviation(people, site)
    page = _page(login(people["qa_approver"]), d)
    assert re.findall(r'data-testid="record-state">(.*?)</span>', page) == ["QA review"]
    offered, refused = _actions(page)
    assert offered == ["return"]
    assert refused == {
        "approve": "You are the originator of this record: someone else must take the step “Approve”."
    }
    assert 'data-testid="confirm-approve"' not in page


def test_signing_form_fields_for_a_signed_action_p11_14(
    people: dict[str, Any], site: Any, login: Login, make_user: Any
) -> None:
    d = deviation_in_state(people, "qa_review", site=site)
    page = _page(login(people["qa_approver"]), d)
    offered, refused = _actions(page)
    assert (offered, refused) == (["return", "approve"], {})
    form = _form(page, "approve")
    assert _text(re.findall(r"<legend>(.*?)</legend>", form, re.S)[0]) == (
        "Electronic signature: Approved"
    )
    assert _inputs(form) == [
        ("hidden", "expected_hash"), ("password", "password"),
    ]
    assert re.findall(r'name="expected_hash" value="(\w+)"', form) == [
        DEVIATION_WORKFLOW.content_hash(d)
    ]
    assert _text(re.findall(r'data-testid="confirm-approve">(.*?)</button>', form)[0]) == (
        "Sign: Approved"
    )
    # Someone who never signed must tick the accountability statement in the same form.
    newcomer = make_user("reviewer2", "qa_reviewer")
    user_verify_identity(newcomer, actor=people["admin"], method="Passport")
    first = _form(_page(login(newcomer), d), "approve")
    assert _inputs(first) == [
        ("hidden", "expected_hash"), ("checkbox", "accept_statement"),
        ("password", "password"),
    ]
    # A QA manager with an authenticator also gets the code field.
    manager_form = _form(_page(login(people["qa_manager"]), d), "approve")
    assert [n for _t, n in _inputs(manager_form)] == [
        "expected_hash", "password", "otp",
    ]


# --- signing through the page -------------------------------------------------------------------


def test_signing_with_the_right_password_shows_the_manifestation_p11_18_p11_19(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    reviewer = people["qa_approver"]
    d = deviation_in_state(people, "qa_review", site=site)
    client = login(reviewer)
    response = client.post(_url("transition", d, "approve"), {
        "password": PASSWORD, "reason": "Investigation is sound",
        "expected_hash": DEVIATION_WORKFLOW.content_hash(d),
    }, follow=True)
    assert response.redirect_chain == [(_detail(d), 302)]
    assert _messages(response) == ["Approve: done and signed (Approved)."]
    assert Deviation.objects.get(pk=d.pk).state == "approved"
    sig = Signature.objects.get(record_type=TYPE, record_id=str(d.pk))
    assert (sig.meaning, sig.signer_id, sig.printed_name, sig.username, sig.components,
            sig.reason, sig.channel) == (
        "Approved", reviewer.pk, reviewer.printed_name, "qa_approver", "password",
        "Investigation is sound", "web",
    )
    shown = manifestation(sig)["signed_at_display"]
    assert ZONED.match(shown)
    page = response.content.decode()
    assert _signature_rows(page) == [
        f"Approved {reviewer.printed_name} (qa_approver) {shown} Investigation is sound "
        "current password"
    ]
    [entry] = AuditEntry.objects.filter(action=f"{TYPE}.approve", object_id=str(d.pk))
    assert entry.data["signature"] == str(sig.pk)


def test_wrong_password_changes_nothing_and_raises_a_security_event_p11_33(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    reviewer = people["qa_approver"]
    d = deviation_in_state(people, "qa_review", site=site)
    response = login(reviewer).post(_url("transition", d, "approve"), {
        "password": "not my password", "reason": "",
    })
    assert response.status_code == 422
    assert Deviation.objects.get(pk=d.pk).state == "qa_review"
    assert Signature.objects.count() == 0
    assert AuditEntry.objects.filter(action=f"{TYPE}.approve").count() == 0
    [event] = SecurityEvent.objects.filter(kind="esig.failure")
    assert (event.username, event.actor_id, event.message) == (
        "qa_approver", reviewer.pk, "Failed e-signature attempt by qa_approver: wrong password"
    )
    assert _signature_rows(response.content.decode()) == []


def test_wrong_password_reopens_the_card_with_the_reason_and_the_attempts_left_p11_33(
    people: dict[str, Any], site: Any, login: Login, settings: Any
) -> None:
    """P11-24, P11-33: the card comes back open with the typed reason (never the password)
    and, next to the password, how many failed attempts are left before the lockout."""
    settings.AXES_FAILURE_LIMIT = 3
    d = deviation_in_state(people, "qa_review", site=site)
    response = login(people["qa_approver"]).post(_url("transition", d, "approve"), {
        "password": "not my password", "reason": "Investigation is sound",
        "expected_hash": DEVIATION_WORKFLOW.content_hash(d),
    })
    page = response.content.decode()
    form = _form(page, "approve")
    assert (response.status_code, _open_cards(page)) == (422, ["approve"])
    assert _reason_typed(form) == "Investigation is sound"
    assert _field_errors(form) == {
        "password": "Not signed: wrong password. 2 attempts left before the account is locked."
    }
    assert "not my password" not in page


def test_sign_ins_and_signatures_share_the_lockout_count_p11_33(
    people: dict[str, Any], site: Any, login: Login, settings: Any
) -> None:
    """P11-33: the attempts left after a wrong signature count the failed sign-ins too:
    one counter locks the account."""
    settings.AXES_FAILURE_LIMIT = 3
    d = deviation_in_state(people, "qa_review", site=site)
    signed_in = login(people["qa_approver"])
    Client().post("/accounts/login/", {"login": "qa_approver", "password": "a bad guess"})
    response = signed_in.post(_url("transition", d, "approve"), {"password": "not my password"})
    assert _field_errors(_form(response.content.decode(), "approve")) == {
        "password": "Not signed: wrong password. 1 attempt left before the account is locked."
    }


def test_reason_is_required_or_optional_as_the_table_declares_a11_16(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    """A11-16: the reason's label and its `required` attribute come from the step's
    declaration. Returning requires a reason; approving is signed, and its table does not
    require one, so the label says optional."""
    d = deviation_in_state(people, "qa_review", site=site)
    page = _page(login(people["qa_approver"]), d)
    assert [_reason_field(_form(page, action)) for action in ("return", "approve")] == [
        ("Reason required", True), ("Reason optional", False),
    ]


def test_empty_reason_is_refused_where_the_table_requires_it_a11_16(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    """A11-16: a blank reason for a step that requires one is refused next to the reason,
    with the card open again; nothing changes."""
    d = deviation_in_state(people, "qa_review", site=site)
    response = login(people["qa_approver"]).post(_url("transition", d, "return"), {
        "reason": "  ", "expected_hash": DEVIATION_WORKFLOW.content_hash(d),
    })
    page = response.content.decode()
    assert (response.status_code, _open_cards(page)) == (422, ["return"])
    assert _field_errors(_form(page, "return")) == {"reason": "A reason is required."}
    assert Deviation.objects.get(pk=d.pk).state == "qa_review"


def test_first_signature_requires_the_accountability_statement_p11_14(
    people: dict[str, Any], site: Any, login: Login, make_user: Any
) -> None:
    newcomer = make_user("reviewer2", "qa_reviewer")
    user_verify_identity(newcomer, actor=people["admin"], method="Passport")
    d = deviation_in_state(people, "qa_review", site=site)
    client = login(newcomer)
    refused = client.post(_url("transition", d, "approve"), {"password": PASSWORD})
    assert (refused.status_code, _open_cards(refused.content.decode())) == (422, ["approve"])
    assert _field_errors(_form(refused.content.decode(), "approve")) == {
        "accept_statement": "Tick the accountability statement to sign for the first time."
    }
    assert Deviation.objects.get(pk=d.pk).state == "qa_review"
    assert SignatureCommitment.objects.filter(user=newcomer).count() == 0
    assert Signature.objects.count() == 0
    signed = client.post(_url("transition", d, "approve"), {
        "password": PASSWORD, "accept_statement": "yes",
    }, follow=True)
    assert _messages(signed) == ["Approve: done and signed (Approved)."]
    assert Deviation.objects.get(pk=d.pk).state == "approved"
    assert SignatureCommitment.objects.filter(user=newcomer).count() == 1
    assert list(Signature.objects.values_list("signer_id", "meaning")) == [
        (newcomer.pk, "Approved")
    ]


def test_content_change_after_signing_marks_the_signature_superseded_p11_20(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    reviewer, manager = people["qa_approver"], people["qa_manager"]
    d = deviation_in_state(people, "qa_review", site=site)
    client = login(reviewer)
    client.post(_url("transition", d, "approve"), {"password": PASSWORD})
    d.refresh_from_db()
    assert [s["superseded"] for s in record_json(d)["signatures"]] == [False]
    services.deviation_update(d, actor=manager, changes={"qa_comments": "Seal to be checked"},
                              reason="QA remark after approval")
    d.refresh_from_db()
    [sig] = record_json(d)["signatures"]
    assert sig["superseded"] is True
    assert sig["text"].endswith("(superseded: the record changed after signing)")
    [row] = _signature_rows(_page(client, d))
    assert row.endswith("superseded password")
    assert 'title="The record changed after this signature">superseded</span>' in _page(client, d)


def test_closing_does_not_supersede_the_approval_p11_20(people: dict[str, Any], site: Any) -> None:
    """Closing sets closed_at; the approval still vouches for unchanged content."""
    d = deviation_in_state(people, "closed", site=site)
    assert [(s["meaning"], s["superseded"]) for s in signatures_of(d)] == [
        ("Approved", False), ("Closed", False)
    ]


# --- attachments and links ------------------------------------------------------------------


def test_attachment_upload_and_download_round_trip(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    d = deviation_in_state(people, "draft", site=site)
    client = login(people["author"])
    data = "Logger export\n2026-03-01;9.4 °C\n".encode()
    response = client.post(_url("attachment_add", d), {
        "file": SimpleUploadedFile("logger.csv", data, content_type="text/csv"),
        "description": "Raw data",
    }, follow=True)
    assert _messages(response) == ["File attached (encrypted at rest)."]
    att = Attachment.objects.get()
    assert bytes(att.ciphertext) != data
    download = client.get(_url("attachment_download", d, att.pk))
    assert download.status_code == 200
    assert download.content == data
    assert (download["Content-Disposition"], download["Content-Type"], download["Digest"]) == (
        'attachment; filename="logger.csv"', "text/csv", f"sha-256={hashlib.sha256(data).hexdigest()}"
    )
    refused = client.post(_url("attachment_add", d), {
        "file": SimpleUploadedFile("run.exe", b"MZ\x90\x00", content_type="text/plain"),
    }, follow=True)
    [message] = _messages(refused)
    assert message.startswith("File: Files of type '.exe' are not accepted; allowed: ")
    assert Attachment.objects.count() == 1
    other = deviation_in_state(people, "draft", site=site)
    assert client.get(_url("attachment_download", other, att.pk)).status_code == 404


def test_links_show_on_both_detail_pages_al_10(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    a = deviation_in_state(people, "draft", site=site, title="Cold room 3")
    b = deviation_in_state(people, "draft", site=site, title="Cold room 4")
    client = login(people["author"])
    response = client.post(_url("link_add", a), {
        "target": b.number, "relation": "related", "note": "same compressor",
    }, follow=True)
    assert _messages(response) == ["Link added; it shows on both records."]

    def rows(d: Deviation) -> list[str]:
        table = re.search(r'data-testid="links-table">(.*?)</table>', _page(client, d), re.S)
        assert table is not None
        return [_text(r).removesuffix(" Remove Remove")
                for r in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)[1:]]

    assert rows(a) == [f"Related to {b.label} Draft same compressor"]
    assert rows(b) == [f"Related to (from) {a.label} Draft same compressor"]
    assert f'<a href="{_detail(b)}">{b.label}</a>' in _page(client, a)
    assert f'<a href="{_detail(a)}">{a.label}</a>' in _page(client, b)
    self_link = client.post(_url("link_add", a), {"target": a.number}, follow=True)
    assert _messages(self_link) == ["Target: A record cannot be linked to itself."]


# --- copies ---------------------------------------------------------------------------------


def _approved(people: dict[str, Any], site: Any, client: Client) -> Deviation:
    d = deviation_in_state(people, "qa_review", site=site)
    client.post(_url("transition", d, "approve"), {"password": PASSWORD, "reason": "OK"})
    d.refresh_from_db()
    assert d.state == "approved"
    return d


def test_pdf_copy_has_number_manifestation_and_trail_p11_03_a11_14(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    reviewer = people["qa_approver"]
    client = login(reviewer)
    d = _approved(people, site, client)
    response = client.get(_url("pdf", d))
    assert response.status_code == 200
    assert (response["Content-Type"], response["Content-Disposition"]) == (
        "application/pdf", f'attachment; filename="{d.number}.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    text = " ".join(
        " ".join((page.extract_text() or "").split())
        for page in PdfReader(io.BytesIO(response.content)).pages
    )
    # The trail names its steps in words; times are in UTC, whoever prints.
    for expected in (
        d.number, reviewer.printed_name, "Approved", "Created", "Submit to QA",
        "Triage: start investigation", "Approve",
    ):
        assert expected in text, expected
    sig = Signature.objects.get()
    assert sig.signed_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") in text


def test_json_copy_has_signatures_trail_and_a_content_digest_p11_03(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    reviewer = people["qa_approver"]
    client = login(reviewer)
    d = _approved(people, site, client)
    response = client.get(_url("json", d))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{d.number}.json"'
    body = json.loads(response.content)
    assert body["format"] == "cyberqms.record/1"
    assert (body["record"]["number"], body["record"]["state"]) == (d.number, "approved")
    [sig] = body["record"]["signatures"]
    assert (sig["printed_name"], sig["username"], sig["meaning"], sig["reason"],
            sig["superseded"]) == (reviewer.printed_name, "qa_approver", "Approved", "OK", False)
    assert [row["action"] for row in body["audit_trail"]] == [
        f"{TYPE}.create", f"{TYPE}.submit", f"{TYPE}.triage", f"{TYPE}.update",
        f"{TYPE}.complete_investigation", f"{TYPE}.approve",
    ]
    assert body["audit_trail"][-1]["signature"] == str(sig["id"])
    content = {k: v for k, v in body.items()
               if k not in ("generated_at", "generated_by", "content_sha256")}
    assert body["content_sha256"] == hashlib.sha256(canonical_json(content)).hexdigest()
    # The digest covers the content only: a second copy made later carries the same one.
    again = json.loads(client.get(_url("json", d)).content)
    assert again["content_sha256"] == body["content_sha256"]


# --- site scoping -----------------------------------------------------------------------------


def test_record_of_a_site_without_a_grant_answers_404_p11_05(
    people: dict[str, Any], site: Any, login: Login, make_user: Any
) -> None:
    elsewhere = deviation_in_state(people, "draft", site=a_site("BER"))
    here = deviation_in_state(people, "draft", site=site)
    client = login(make_user("muc_author", "author", site=site))
    assert client.get(_detail(here)).status_code == 200
    for url in (_detail(elsewhere), _url("pdf", elsewhere), _url("json", elsewhere)):
        assert client.get(url).status_code == 404, url
    assert client.post(_url("comment_add", elsewhere), {"body": "hello"}).status_code == 404
    assert client.post(_url("delete", elsewhere), {"reason": "x"}).status_code == 404
    assert Deviation.objects.get(pk=elsewhere.pk).is_deleted is False
    assert client.get(_url("json", Deviation(pk=999999))).status_code == 404



def test_link_to_a_record_the_viewer_cannot_see_does_not_leak_its_title_p11_05(
    people: dict[str, Any], site: Any, login: Login, make_user: Any
) -> None:
    here = deviation_in_state(people, "draft", site=site)
    there = deviation_in_state(people, "draft", site=a_site("BER"),
                               title="Confidential excursion in Berlin")
    link_add(here, actor=people["author"], target_number=there.number)
    local = make_user("muc_author", "author", site=site)
    client = login(local)
    assert client.get(_detail(there)).status_code == 404
    page = _page(client, here)
    api = client.get(f"/api/v1/records/deviations/{here.pk}").content.decode()
    assert ("Confidential excursion" in page, "Confidential excursion" in api) == (
        False, False
    )
    assert _text(re.search(r'data-testid="links-table">(.*?)</table>', page, re.S)
                 .group(1)).endswith("No linked records.")  # type: ignore[union-attr]


def test_export_does_not_leak_an_invisible_linked_record_p11_05(
    people: dict[str, Any], site: Any, login: Login, make_user: Any
) -> None:
    here = deviation_in_state(people, "draft", site=site)
    there = deviation_in_state(people, "draft", site=a_site("BER"),
                               title="Confidential excursion in Berlin")
    link_add(here, actor=people["author"], target_number=there.number)
    client = login(make_user("muc_author", "author", site=site))
    exported = client.get(_url("json", here)).content.decode()
    history = client.get(f"/trail/history/deviations.deviation/{here.pk}/").content.decode()
    assert ("Confidential excursion" in exported, "Confidential excursion" in history) == (
        False, False
    )


# --- what a page reads --------------------------------------------------------------------


def test_a_record_page_reads_its_links_once_however_many_al_10(
    people: dict[str, Any], site: Any, login: Login, django_assert_num_queries: Any
) -> None:
    """The Links tab and the lineage share one read of the links, and the records at their
    other ends are read one query per family: the page costs the same with 1 or 3 links."""
    author = people["author"]
    d = deviation_in_state(people, "draft", site=site)
    first = deviation_in_state(people, "draft", site=site)
    link_add(d, actor=author, target_number=first.number)
    client = login(author)
    _page(client, d)  # the session's first page writes its own bookkeeping
    with CaptureQueriesContext(connection) as one:
        one_link = _page(client, d)
    for _ in range(2):
        link_add(d, actor=author, target_number=deviation_in_state(people, "draft",
                                                                     site=site).number)
    with django_assert_num_queries(len(one.captured_queries)):
        three_links = _page(client, d)
    assert (one_link.count('data-testid="lineage"'), len(re.findall(
        r'<li class="level-1">', three_links))) == (1, 3)


def test_a_page_without_a_signing_form_asks_nothing_about_signing(
    people: dict[str, Any], site: Any, login: Login
) -> None:
    """Whether the statement or an authenticator code is still needed is asked only where
    a step to sign is shown."""
    d = deviation_in_state(people, "draft", site=site)
    client = login(people["author"])
    _page(client, d)  # the session's first page writes its own bookkeeping
    with CaptureQueriesContext(connection) as read:
        page = _page(client, d)
    assert "e-signature" not in page
    asked = re.compile(r'^SELECT 1 AS "a" FROM "(core_signaturecommitment|mfa_authenticator)"')
    assert [q["sql"] for q in read.captured_queries if asked.match(q["sql"])] == []
