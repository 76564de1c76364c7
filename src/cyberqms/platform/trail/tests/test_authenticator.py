"""Entries the application did not write are detected (issue 12, item 1; P11-02, P11-06,
CYB-02): every entry carries an authenticator made with a key outside the database.

An attacker who owns the database (triggers lifted) appends an entry at the tail, with a
correct leaf hash, before the next seal: verification names it, the sealer refuses to sign
it and raises the critical integrity event, and the auditor's viewer, the exports and the
API withhold its content. An entry numbered 0 gets the same treatment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from cyberqms.platform.core.models import SecurityEvent
from cyberqms.platform.trail import mac
from cyberqms.platform.trail.integrity import Problem, check_trail
from cyberqms.platform.trail.log import SealRefusedError, max_seq, trail_seal
from cyberqms.platform.trail.models import AuditEntry, Checkpoint
from cyberqms.platform.trail.tests.tampering import body, leaf, sql

pytestmark = pytest.mark.usefixtures("sealed_trail", "unguarded")

Login = Callable[[Any], Client]


def _forge(seq: int, *, authenticator: bytes | None = None, like: int = 45) -> str:
    """Insert entry `seq` copied from entry `like`, renumbered, with a correct leaf hash."""
    data = json.loads(body(like))
    data["seq"] = seq
    data["reason"] = "forged"
    text = json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    sql(
        "INSERT INTO trail_auditentry (seq, at, actor_id, action, object_type, object_id, "
        "state_hash, correlation_id, leaf_hash, body, mac) "
        "SELECT %s, at, actor_id, action, object_type, object_id, state_hash, correlation_id, "
        "%s, %s, %s FROM trail_auditentry WHERE seq = %s",
        [seq, leaf(text), text, authenticator, like],
    )
    return text


def _problem(seq: int, why: str) -> Problem:
    return Problem("entry", f"entry {seq}: not written by cyberqms ({why})", seq=seq)


def test_entries_the_application_writes_carry_a_valid_authenticator() -> None:
    keys = mac.mac_keys()
    verdicts = {
        keys.verdict(bytes(e.leaf_hash), e.mac) for e in AuditEntry.objects.all()
    }
    assert verdicts == {mac.Verdict.VALID}


def test_a_tail_entry_without_authenticator_fails_verification() -> None:
    _forge(46)
    assert check_trail(reconcile=False).problems == [
        _problem(46, "it carries no authenticator")
    ]


def test_a_tail_entry_authenticated_with_a_foreign_key_fails_verification() -> None:
    text = _forge(46, authenticator=b"\x00" * 36)
    assert leaf(text) == leaf(body(46))
    assert check_trail(reconcile=False).problems == [
        _problem(46, "authenticator made with a key this trail never had")
    ]


def test_a_tail_entry_with_a_guessed_authenticator_under_the_real_key_id_fails() -> None:
    key_id = mac.mac_keys().current
    _forge(46, authenticator=key_id + secrets.token_bytes(32))
    assert check_trail(reconcile=False).problems == [
        _problem(46, "authenticator does not match")
    ]


def test_an_authenticator_copied_from_another_entry_fails() -> None:
    stolen = bytes(AuditEntry.objects.get(seq=45).mac)
    _forge(46, authenticator=stolen)
    assert check_trail(reconcile=False).problems == [
        _problem(46, "authenticator does not match")
    ]


def test_the_sealer_refuses_a_forged_tail_entry_and_raises_a_critical_event() -> None:
    _forge(46)
    with pytest.raises(SealRefusedError) as refused:
        trail_seal()
    assert (refused.value.seq, str(refused.value)) == (
        46, "entry 46 was not written by cyberqms (authenticator missing)"
    )
    assert list(Checkpoint.objects.values_list("size", flat=True)) == [10, 25, 40]
    event = SecurityEvent.objects.get(kind="trail.seal.refused")
    assert (event.severity, event.message) == (
        "critical",
        "Audit trail not sealed: entry 46 was not written by cyberqms (authenticator missing)",
    )


def test_an_entry_numbered_zero_fails_verification() -> None:
    _forge(0, authenticator=bytes(AuditEntry.objects.get(seq=1).mac), like=1)
    assert check_trail(reconcile=False).problems == [
        _problem(0, "sequence numbers start at 1")
    ]


def test_an_entry_numbered_zero_with_a_valid_authenticator_still_fails(settings: Any) -> None:
    """Even with the key (an attacker on the host), numbering below 1 is refused."""
    data = json.loads(body(1))
    data["seq"] = 0
    text = json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    keys = mac.mac_keys()
    authenticator = keys.current + hmac.new(
        keys.keys[keys.current], leaf(text), hashlib.sha256
    ).digest()
    _forge(0, authenticator=authenticator, like=1)
    assert check_trail(reconcile=False).problems == [
        _problem(0, "sequence numbers start at 1")
    ]


def test_rotation_keeps_earlier_entries_verifiable(
    write_entries: Callable[..., list[int]],
) -> None:
    before = mac.mac_keys().current
    after = mac.rotate().current
    write_entries(3)
    assert before != after
    assert bytes(AuditEntry.objects.get(seq=48).mac)[:4] == after
    assert bytes(AuditEntry.objects.get(seq=45).mac)[:4] == before
    assert check_trail(reconcile=False).problems == []


def test_entries_without_authenticator_are_accepted_under_a_signed_checkpoint() -> None:
    """Entries written before authenticators existed: the checkpoint is their proof."""
    sql("UPDATE trail_auditentry SET mac = NULL WHERE seq <= 40")
    assert check_trail(reconcile=False).problems == []


def test_unsealed_entries_without_authenticator_are_not_accepted() -> None:
    sql("UPDATE trail_auditentry SET mac = NULL WHERE seq = 43")
    assert check_trail(reconcile=False).problems == [
        _problem(43, "it carries no authenticator")
    ]


def test_a_damaged_key_file_is_named(settings: Any, tmp_path: Path) -> None:
    path = tmp_path / "mac.key"
    key = secrets.token_bytes(32)
    path.write_text(f"00000000 {base64.b64encode(key).decode()}\n")
    settings.CYBERQMS_TRAIL_MAC_KEY_FILE = path
    with pytest.raises(mac.MacKeyError) as error:
        mac.mac_keys()
    assert str(error.value) == f"{path} line 1: the key or its id is damaged"


def test_a_new_key_file_is_private(settings: Any, tmp_path: Path) -> None:
    settings.CYBERQMS_TRAIL_MAC_KEY_FILE = tmp_path / "new" / "mac.key"
    keys = mac.mac_keys()
    assert (settings.CYBERQMS_TRAIL_MAC_KEY_FILE.stat().st_mode & 0o777, len(keys.keys)) == (
        0o600, 1
    )


# --- what readers see -----------------------------------------------------------------------


def _cells(html: str, seq: int) -> str:
    start = html.index(f'<td class="mono">{seq}<br>')
    return html[start : html.index("</tr>", start)]


def _forge_at_tail() -> int:
    last = max_seq()
    _forge(last + 1, like=last)
    return last + 1


def test_the_viewer_withholds_a_forged_entry(personas: dict[str, Any], login: Login) -> None:
    seq = _forge_at_tail()
    html = login(personas["auditor"]).get("/trail/?sort=-seq").content.decode()
    row = _cells(html, seq)
    assert "did not verify" in row
    assert "forged" not in html
    assert "Did not verify: cyberqms did not write this entry as it reads now" in row


def test_the_viewer_withholds_an_entry_numbered_zero(
    personas: dict[str, Any], login: Login
) -> None:
    _forge(0, authenticator=bytes(AuditEntry.objects.get(seq=1).mac), like=1)
    html = login(personas["auditor"]).get("/trail/?sort=seq").content.decode()
    assert "did not verify" in _cells(html, 0)
    assert "forged" not in html


def test_the_api_withholds_a_forged_entry(personas: dict[str, Any], login: Login) -> None:
    seq = _forge_at_tail()
    client = login(personas["auditor"])
    item = client.get(f"/api/v1/trail/entries/{seq}").json()
    genuine = client.get(f"/api/v1/trail/entries/{seq - 1}").json()
    assert (item["entry"], item["verified"]) == (None, False)
    assert (genuine["entry"]["seq"], genuine["verified"]) == (seq - 1, True)


def test_the_json_export_withholds_a_forged_entry(
    personas: dict[str, Any], login: Login
) -> None:
    seq = _forge_at_tail()
    response = login(personas["auditor"]).get("/trail/export.json?sort=seq")
    rows = json.loads(b"".join(response.streaming_content))
    forged = [row for row in rows if row["seq"] == seq]
    assert forged == [{
        "seq": seq, "at": None, "actor_id": None, "actor": None,
        "action": "(did not verify: content withheld)", "object_type": None,
        "object_id": None, "object_label": None, "changes": {}, "reason": None,
        "signature": None, "correlation": None, "channel": None, "source": None,
        "state_hash": None, "leaf_hash": None,
    }]


def test_the_status_page_says_sealing_stopped_and_why(
    personas: dict[str, Any], login: Login
) -> None:
    seq = _forge_at_tail()
    with pytest.raises(SealRefusedError):
        trail_seal()
    html = login(personas["auditor"]).get("/trail/status/").content.decode()
    start = html.index('data-testid="seal-refused">')
    assert html[start : html.index("</div>", start)] == (
        'data-testid="seal-refused"><span class="badge bad">sealing stopped</span> '
        f"Audit trail not sealed: entry {seq} was not written by cyberqms (authenticator "
        "missing)"
    )


def test_the_status_page_says_nothing_of_a_refusal_once_sealing_runs_again(
    personas: dict[str, Any], login: Login
) -> None:
    SecurityEvent.objects.create(
        kind="trail.seal.refused", severity="critical", message="an old refusal",
        created_at=Checkpoint.objects.get(size=40).signed_at,
    )
    trail_seal()
    html = login(personas["auditor"]).get("/trail/status/").content.decode()
    assert 'data-testid="seal-refused"' not in html
