"""Normalization to OCSF with the GxP extension (issue 5 deliverable 2), per input format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.security.detect import ocsf
from cyberqms.security.detect.ocsf import SourceInfo, get, normalize
from cyberqms.security.detect.parsers import Format, ParseError, parse_line

RECEIVED = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)
T_10H = 1_772_359_200_000  # 2026-03-01T10:00:00Z in epoch ms
SOURCE = SourceInfo(name="bsl-syslog", kind="syslog", site="BSL", system="corp-it")


def norm(line: str, fmt: Format = "syslog", source: SourceInfo = SOURCE) -> dict[str, Any]:
    parsed = parse_line(line, fmt, received_at=RECEIVED)
    return normalize(parsed, source=source, received_at=RECEIVED)


def pick(event: dict[str, Any], *paths: str) -> dict[str, Any]:
    return {path: get(event, path) for path in paths}


CORE = ("class_uid", "activity_id", "type_uid", "status", "time", "severity_id",
        "actor.user.name", "src_endpoint.ip")


def test_get_reads_dotted_paths() -> None:
    event = {"actor": {"user": {"name": "ana"}}, "n": 0}
    assert get(event, "actor.user.name") == "ana"
    assert get(event, "actor.user.uid") is None
    assert get(event, "n.x", "d") == "d"
    assert get(event, "n") == 0


# --- syslog --------------------------------------------------------------------------------


def test_sshd_failed_password() -> None:
    event = norm("<38>Mar  1 10:00:00 bastion sshd[4242]: Failed password for invalid user admin "
                 "from 203.0.113.7 port 52311 ssh2")
    assert pick(event, *CORE, "user.name", "device.hostname", "metadata.product.name",
                "metadata.original_time", "class_name", "category_uid", "gxp") == {
        "class_uid": 3002, "activity_id": 1, "type_uid": 300201, "status": "Failure",
        "time": T_10H, "severity_id": 1, "actor.user.name": "admin",
        "src_endpoint.ip": "203.0.113.7", "user.name": "admin", "device.hostname": "bastion",
        "metadata.product.name": "sshd", "metadata.original_time": "Mar  1 10:00:00",
        "class_name": "Authentication", "category_uid": 3,
        "gxp": {"site": "BSL", "system": "corp-it", "equipment": None, "batch": None,
                "record_type": None, "change_ref": None},
    }


def test_pam_authentication_failure() -> None:
    event = norm("<86>Mar  1 10:00:00 web1 sshd[1]: pam_unix(sshd:auth): authentication failure; "
                 "logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.2  user=alice")
    assert pick(event, "class_uid", "status_id", "actor.user.name", "src_endpoint.ip") == {
        "class_uid": 3002, "status_id": 2, "actor.user.name": "alice", "src_endpoint.ip": "198.51.100.2",
    }


def test_sshd_accepted_is_a_successful_logon() -> None:
    event = norm("<38>1 2026-03-01T10:00:00Z bastion sshd 1 - - Accepted publickey for ana from 10.0.0.8 port 2 ssh2")
    assert pick(event, *CORE) == {
        "class_uid": 3002, "activity_id": 1, "type_uid": 300201, "status": "Success",
        "time": T_10H, "severity_id": 1, "actor.user.name": "ana", "src_endpoint.ip": "10.0.0.8",
    }


def test_windows_failed_logon_text() -> None:
    event = norm("<12>Mar  1 10:00:00 dc1 MSWinEventLog: 4625: An account failed to log on. "
                 "Subject: Account Name: - Account Domain: - "
                 "Account For Which Logon Failed: Account Name: bob Account Domain: PHARMA "
                 "Source Network Address: 10.4.4.4")
    assert pick(event, "class_uid", "status", "actor.user.name", "src_endpoint.ip", "severity_id") == {
        "class_uid": 3002, "status": "Failure", "actor.user.name": "bob",
        "src_endpoint.ip": "10.4.4.4", "severity_id": 3,
    }


@pytest.mark.parametrize(
    ("message", "equipment", "user"),
    [
        ("PLC configuration downloaded to PLC-7 by jdoe", "PLC-7", "jdoe"),
        ("Program download to controller started, device=LINE3-CPU user=eng2", "LINE3-CPU", "eng2"),
        ("SCADA project modified by operator mk", None, "mk"),
    ],
)
def test_plc_configuration_change(message: str, equipment: str | None, user: str) -> None:
    event = norm(f"<13>Mar  1 10:00:00 eng-ws1 TIA[1]: {message}")
    assert pick(event, "class_uid", "activity_id", "type_uid", "actor.user.name", "gxp.equipment",
                "gxp.record_type", "unmapped.pattern") == {
        "class_uid": 5019, "activity_id": 1, "type_uid": 501901, "actor.user.name": user,
        "gxp.equipment": equipment, "gxp.record_type": "plc_config",
        "unmapped.pattern": "ot_config_change",
    }


def test_rfc5424_gxp_structured_data() -> None:
    event = norm('<166>1 2026-03-01T09:59:59.120Z lims01 lims 77 RECORD_UPDATE [gxp@32473 '
                 'site="ZRH" user="ana" action="batch_record.update" outcome="success" '
                 'src_ip="10.1.0.5" src_host="ws-12" batch="B-2026-001" equipment="TANK-4"] '
                 "Batch record updated")
    assert pick(event, *CORE, "src_endpoint.hostname", "metadata.event_code", "gxp", "message") == {
        "class_uid": 6003, "activity_id": 3, "type_uid": 600303, "status": "Success",
        "time": T_10H - 880, "severity_id": 1, "actor.user.name": "ana",
        "src_endpoint.ip": "10.1.0.5", "src_endpoint.hostname": "ws-12",
        "metadata.event_code": "RECORD_UPDATE",
        "gxp": {"site": "ZRH", "system": "corp-it", "equipment": "TANK-4", "batch": "B-2026-001",
                "record_type": "batch_record", "change_ref": None},
        "message": "Batch record updated",
    }


def test_rfc3164_key_value_message() -> None:
    event = norm('<134>Mar  1 10:00:00 cds01 empower[12]: site=BSL user=bob action=result.delete '
                 'outcome=success src_ip=10.2.0.3 msg="Result \\"R1\\" deleted"')
    assert pick(event, "class_uid", "activity_id", "status", "actor.user.name", "src_endpoint.ip",
                "gxp.record_type", "message") == {
        "class_uid": 6003, "activity_id": 4, "status": "Success", "actor.user.name": "bob",
        "src_endpoint.ip": "10.2.0.3", "gxp.record_type": "result", "message": 'Result "R1" deleted',
    }


def test_unrecognised_syslog_is_a_base_event() -> None:
    event = norm("<30>1 2026-03-01T10:00:00Z h cron 9 - - job done")
    assert pick(event, "class_uid", "activity_id", "type_uid", "status", "severity_id", "message") == {
        "class_uid": 0, "activity_id": 0, "type_uid": 0, "status": "Unknown", "severity_id": 1,
        "message": "job done",
    }


def test_missing_time_falls_back_to_receive_time() -> None:
    assert norm("<13>1 - h a - - - x")["time"] == ocsf.epoch_ms(RECEIVED)


# --- CEF -----------------------------------------------------------------------------------


def test_cef_plc_download_with_labels() -> None:
    event = norm(r"CEF:0|Siemens|S7 Monitor|2.1|CFG-DL|Configuration download|7|rt=1772359200000 "
                 r"dvchost=scada1 suser=jdoe src=10.9.0.4 shost=eng-ws1 dvc=10.9.1.7 "
                 r"cs1Label=Equipment cs1=PLC-7 cs2Label=Batch cs2=B-1 cs3Label=Change Control "
                 r"cs3=CC-42 msg=Program download to controller", "cef")
    assert pick(event, *CORE, "metadata.product", "metadata.event_code", "device.hostname",
                "device.ip", "src_endpoint.hostname", "gxp", "unmapped.labels") == {
        "class_uid": 5019, "activity_id": 1, "type_uid": 501901, "status": "Unknown",
        "time": T_10H, "severity_id": 4, "actor.user.name": "jdoe", "src_endpoint.ip": "10.9.0.4",
        "metadata.product": {"vendor_name": "Siemens", "name": "S7 Monitor", "version": "2.1"},
        "metadata.event_code": "CFG-DL", "device.hostname": "scada1", "device.ip": "10.9.1.7",
        "src_endpoint.hostname": "eng-ws1",
        "gxp": {"site": "BSL", "system": "corp-it", "equipment": "PLC-7", "batch": "B-1",
                "record_type": "plc_config", "change_ref": "CC-42"},
        "unmapped.labels": {"Equipment": "PLC-7", "Batch": "B-1", "Change Control": "CC-42"},
    }


def test_cef_failed_login_with_outcome() -> None:
    event = norm("<134>Mar  1 10:00:00 fw1 CEF:0|Fortinet|FortiGate|7.2|32002|Admin login failed|"
                 "5|suser=admin src=198.51.100.9 dst=10.0.0.1 dpt=443 outcome=failure", "syslog")
    assert pick(event, *CORE, "user.name", "dst_endpoint.ip", "dst_endpoint.port", "device.hostname") == {
        "class_uid": 3002, "activity_id": 1, "type_uid": 300201, "status": "Failure",
        "time": T_10H, "severity_id": 3, "actor.user.name": "admin",
        "src_endpoint.ip": "198.51.100.9", "user.name": "admin", "dst_endpoint.ip": "10.0.0.1",
        "dst_endpoint.port": 443, "device.hostname": "fw1",
    }


def test_cef_firewall_deny_keeps_endpoints_and_action() -> None:
    event = norm(r"CEF:0|PAN|FW|10|DENY|traffic end|4|rt=Mar 01 2026 10:00:00 src=10.0.0.1 "
                 r"dst=10.0.0.2 spt=5555 dpt=443 act=deny deviceExternalId=BSL cs1Label=Rule cs1=r1 "
                 r"proto=TCP", "cef")
    assert pick(event, "class_uid", "activity_id", "status", "time", "action", "device.uid", "src_endpoint",
                "dst_endpoint", "unmapped.cef", "unmapped.labels") == {
        "class_uid": 4001, "activity_id": 5, "status": "Failure", "time": T_10H, "action": "deny",
        "device.uid": "BSL",
        "src_endpoint": {"ip": "10.0.0.1", "port": 5555},
        "dst_endpoint": {"ip": "10.0.0.2", "port": 443},
        "unmapped.cef": {"proto": "TCP"}, "unmapped.labels": {"Rule": "r1"},
    }


def test_cef_account_change_uses_duser_as_target() -> None:
    event = norm("CEF:0|Microsoft|AD|1|4728|A member was added to a security-enabled global group "
                 "(4728)|5|suser=it-admin duser=eve cs1Label=Group cs1=Domain Admins", "cef")
    assert pick(event, "class_uid", "activity_id", "actor.user.name", "user.name") == {
        "class_uid": 3001, "activity_id": 7, "actor.user.name": "it-admin", "user.name": "eve",
    }


def test_cef_plc_block_download_without_equipment_label() -> None:
    event = norm("CEF:0|Siemens|SIMATIC S7-1500|2.9|PROGRAM_DOWNLOAD|Program block download|8|"
                 "rt=1772359200000 dvchost=dub-plc-l2 suser=pnowak src=10.22.5.10 dvc=10.22.0.30 "
                 "cs1Label=ChangeRef cs1=CC-2026-0014 cs2Label=Block cs2=FB12 "
                 "msg=Block FB12 downloaded to CPU", "cef")
    assert pick(event, "class_uid", "severity_id", "actor.user.name", "gxp.equipment",
                "gxp.record_type", "gxp.change_ref") == {
        "class_uid": 5019, "severity_id": 4, "actor.user.name": "pnowak",
        "gxp.equipment": "dub-plc-l2", "gxp.record_type": "plc_config",
        "gxp.change_ref": "CC-2026-0014",
    }


@pytest.mark.parametrize(
    ("line", "class_uid", "activity_id", "status"),
    [
        ("CEF:0|Siemens|WinCC|7.5|USER_LOGON|User logon|1|suser=k msg=User logon by k", 3002, 1, "Unknown"),
        ("CEF:0|Siemens|WinCC|7.5|USER_LOGOFF|User logoff|1|suser=k", 3002, 2, "Unknown"),
        ("LEEF:1.0|Microsoft|Windows|10|4768|cat=Kerberos\toutcome=success\tusrName=k", 3002, 3, "Success"),
        ("LEEF:1.0|Microsoft|Windows|10|4634|cat=Logoff\tusrName=k", 3002, 2, "Success"),
        ("LEEF:1.0|Microsoft|Windows|10|4725|usrName=a\ttargetUser=k", 3001, 5, "Success"),
    ],
)
def test_logon_and_account_events(line: str, class_uid: int, activity_id: int, status: str) -> None:
    event = norm(line, "cef" if line.startswith("CEF") else "leef")
    assert pick(event, "class_uid", "activity_id", "status") == {
        "class_uid": class_uid, "activity_id": activity_id, "status": status,
    }


@pytest.mark.parametrize(
    ("action", "class_uid", "activity_id", "record_type"),
    [
        ("auth.login", 3002, 1, None),
        ("login", 3002, 1, None),
        ("auth.logout", 3002, 2, None),
        ("sample.login", 6003, 1, "sample"),  # LIMS sample registration, not a sign-in
        ("batch.esign", 6003, 3, "batch"),
        ("batch.record.correct", 6003, 3, "record"),
        ("result.enter", 6003, 1, "result"),
        ("data.export", 6001, 7, "data"),
        ("plc.config.download", 5019, 1, "plc_config"),
        ("equipment.status.change", 6003, 3, "status"),
        ("dance", None, None, None),
    ],
)
def test_classify_action(action: str, class_uid: int | None, activity_id: int | None,
                         record_type: str | None) -> None:
    expected = None if class_uid is None else (class_uid, activity_id, record_type)
    assert ocsf.classify_action(action) == expected


def test_group_change_state_and_record_count() -> None:
    event = norm("LEEF:1.0|Microsoft|Windows|10|4728|usrName=a\ttargetUser=k\tgroupName=Domain Admins", "leef")
    assert get(event, "group.name") == "Domain Admins"
    event = norm('<166>1 2026-03-01T10:00:00Z lims01 lims 1 - [gxp@32473 user="ana" '
                 'action="data.export" count="1500" change_state="approved"] Export', "syslog")
    assert pick(event, "class_uid", "gxp.record_count", "gxp.change_state") == {
        "class_uid": 6001, "gxp.record_count": 1500, "gxp.change_state": "approved",
    }
    assert "record_count" not in norm('<166>1 - h a - - [gxp@1 count="many"] x')["gxp"]


def test_cef_full_key_names_are_understood() -> None:
    event = norm("CEF:0|V|P|1|1|Login failed|3|sourceUserName=ana sourceAddress=10.0.0.3", "cef")
    assert pick(event, "class_uid", "actor.user.name", "src_endpoint.ip") == {
        "class_uid": 3002, "actor.user.name": "ana", "src_endpoint.ip": "10.0.0.3",
    }


# --- LEEF ----------------------------------------------------------------------------------


def test_leef_windows_failed_logon() -> None:
    event = norm("LEEF:1.0|Microsoft|Windows|10|4625|devTime=2026-03-01T10:00:00.000Z\t"
                 "devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX\tdvchost=dc1\tcat=Logon\tsev=4\tsite=ZRH\t"
                 "usrName=carol\tsrc=10.1.1.1\tsrcHost=ws1\toutcome=failure\tdomain=PHARMA", "leef")
    assert pick(event, *CORE, "user.name", "src_endpoint.hostname", "device.hostname", "gxp.site",
                "metadata.product.vendor_name", "metadata.event_code", "unmapped.leef") == {
        "class_uid": 3002, "activity_id": 1, "type_uid": 300201, "status": "Failure",
        "time": T_10H, "severity_id": 3, "actor.user.name": "carol", "src_endpoint.ip": "10.1.1.1",
        "user.name": "carol", "src_endpoint.hostname": "ws1", "device.hostname": "dc1",
        "gxp.site": "ZRH", "metadata.product.vendor_name": "Microsoft", "metadata.event_code": "4625",
        "unmapped.leef": {"site": "ZRH", "domain": "PHARMA"},
    }


def test_leef_group_membership_change() -> None:
    event = norm("LEEF:2.0|Microsoft|Windows|10|4732|^|cat=Security Group Management^sev=6^"
                 "usrName=admin1^targetUser=eve^outcome=success", "leef")
    assert pick(event, "class_uid", "activity_id", "status", "actor.user.name", "user.name",
                "severity_id") == {
        "class_uid": 3001, "activity_id": 7, "status": "Success", "actor.user.name": "admin1",
        "user.name": "eve", "severity_id": 3,
    }


def test_leef_epoch_devtime_and_ports() -> None:
    event = norm("LEEF:1.0|Lancope|StealthWatch|1.0|41|devTime=1772359200000\tsrc=10.0.1.8\t"
                 "dst=10.0.0.5\tsrcPort=81\tdstPort=21\tsev=9", "leef")
    assert pick(event, "class_uid", "time", "severity_id", "src_endpoint", "dst_endpoint") == {
        "class_uid": 0, "time": T_10H, "severity_id": 5,
        "src_endpoint": {"ip": "10.0.1.8", "port": 81}, "dst_endpoint": {"ip": "10.0.0.5", "port": 21},
    }


# --- JSON lines: cyberqms security events -------------------------------------------------

QMS = SourceInfo(name="cyberqms", kind="qms", site="BSL", system="qms")


def qms(kind: str, **extra: Any) -> dict[str, Any]:
    record = {"created_at": "2026-03-01T10:00:00Z", "kind": kind, "severity": "medium",
              "username": "ana", "source_ip": "10.0.0.9", "channel": "web",
              "message": "m", "data": {}}
    record.update(extra)
    return normalize(record, source=QMS, received_at=RECEIVED)


@pytest.mark.parametrize(
    ("kind", "class_uid", "activity_id", "status"),
    [
        ("auth.login.failure", 3002, 1, "Failure"),
        ("auth.login.failed", 3002, 1, "Failure"),
        ("auth.login.success", 3002, 1, "Success"),
        ("auth.mfa.failure", 3002, 1, "Failure"),
        ("auth.logout", 3002, 2, "Success"),
        ("auth.lockout", 3001, 9, "Success"),
        ("account.created", 3001, 1, "Success"),
        ("account.deactivated", 3001, 5, "Success"),
        ("account.role_granted", 3001, 7, "Success"),
        ("account.role_revoked", 3001, 8, "Success"),
        ("trail.integrity.failure", 2004, 1, "Failure"),
        ("access.denied", 6003, 99, "Failure"),
        ("trail.export.create", 6001, 7, "Success"),
        ("deviation.deviation.update", 6003, 3, "Success"),
        ("capa.action.delete", 6003, 4, "Success"),
        ("something.unknown", 0, 0, "Unknown"),
    ],
)
def test_qms_kinds(kind: str, class_uid: int, activity_id: int, status: str) -> None:
    event = qms(kind)
    assert pick(event, "class_uid", "activity_id", "type_uid", "status", "time", "severity_id",
                "actor.user.name", "src_endpoint.ip", "metadata.event_code", "unmapped.channel") == {
        "class_uid": class_uid, "activity_id": activity_id, "type_uid": class_uid * 100 + activity_id,
        "status": status, "time": T_10H, "severity_id": 3, "actor.user.name": "ana",
        "src_endpoint.ip": "10.0.0.9", "metadata.event_code": kind, "unmapped.channel": "web",
    }


def test_qms_every_emitted_kind_is_mapped() -> None:
    """The SecurityEvent kinds cyberqms emits today (grep emit_security_event) all have a class."""
    emitted = [
        "account.created", "account.deactivated", "account.mfa.added", "account.mfa.removed",
        "account.password_changed", "account.password_reset", "account.reactivated",
        "account.role_granted", "account.role_revoked", "account.token_created",
        "account.token_revoked", "auth.lockout", "auth.login.failure", "auth.login.success",
        "auth.logout", "auth.mfa.failure", "auth.session.idle_timeout", "auth.token.rejected",
        "auth.unlock", "esig.failure", "trail.integrity.failure",
        "trail.integrity.failure.persisting", "trail.key.rotated", "trail.review.discrepancy",
        "trail.seal.refused",
    ]
    assert [kind for kind in emitted if kind not in ocsf.QMS_KINDS] == []


def test_qms_esignature_failure_carries_a_gxp_note() -> None:
    event = qms("esig.failure", data={"record_type": "capa"})
    assert pick(event, "class_uid", "activity_id", "activity_name", "status", "gxp.record_type") == {
        "class_uid": 3002, "activity_id": 99, "activity_name": "Electronic Signature",
        "status": "Failure", "gxp.record_type": "capa",
    }
    assert "21 CFR 11.200" in event["gxp"]["note"]


def test_qms_role_grant_names_actor_target_role_and_site() -> None:
    event = qms("account.role_granted", severity="high", username="admin",
                data={"subject": "bob", "role": "administrator", "site": "ZRH", "reason": "r"})
    assert pick(event, "actor.user.name", "user.name", "policy.name", "gxp.site", "severity_id") == {
        "actor.user.name": "admin", "user.name": "bob", "policy.name": "administrator",
        "gxp.site": "ZRH", "severity_id": 4,
    }


def test_qms_trail_integrity_failure_is_a_finding_on_the_audit_trail() -> None:
    event = qms("trail.integrity.failure", severity="critical", username="", source_ip=None)
    assert pick(event, "class_name", "severity_id", "gxp.record_type", "actor.user.name",
                "src_endpoint") == {
        "class_name": "Detection Finding", "severity_id": 5, "gxp.record_type": "audit_trail",
        "actor.user.name": None, "src_endpoint": None,
    }


# --- JSON lines: OCSF passthrough and plain objects ---------------------------------------


def test_ocsf_passthrough_is_completed() -> None:
    event = norm('{"class_uid": 3002, "activity_id": 1, "time": 1772359200000, "status_id": 2, '
                 '"severity_id": 3, "actor": {"user": {"name": "z"}}, "class_name": "wrong", '
                 '"gxp": {"batch": "B-9"}, "metadata": {"product": {"name": "idp"}}}', "jsonl")
    assert pick(event, *CORE, "class_name", "gxp", "metadata.product.name", "metadata.log_name") == {
        "class_uid": 3002, "activity_id": 1, "type_uid": 300201, "status": "Failure",
        "time": T_10H, "severity_id": 3, "actor.user.name": "z", "src_endpoint.ip": None,
        "class_name": "Authentication",
        "gxp": {"site": "BSL", "system": "corp-it", "equipment": None, "batch": "B-9",
                "record_type": None, "change_ref": None},
        "metadata.product.name": "idp", "metadata.log_name": "bsl-syslog",
    }


@pytest.mark.parametrize(
    "record",
    [
        {"class_uid": "3002"},
        {"class_uid": True},
        {"class_uid": 3002, "time": "yesterday"},
        {"class_uid": 3002, "activity_id": 1000},
        {"class_uid": 3002, "actor": "ana"},
        {"class_uid": 3002, "message": 5},
    ],
)
def test_ocsf_passthrough_validation(record: dict[str, Any]) -> None:
    with pytest.raises(ParseError) as excinfo:
        normalize(record, source=SOURCE, received_at=RECEIVED)
    assert excinfo.value.reason == "invalid_ocsf"


def test_plain_json_application_log() -> None:
    event = norm('{"timestamp": "2026-03-01T11:00:00+01:00", "user": "ana", "action": '
                 '"audit_trail.export", "src_ip": "10.0.0.2", "batch": "B-1", "severity": "low"}', "jsonl")
    assert pick(event, *CORE, "gxp.batch", "gxp.record_type") == {
        "class_uid": 6001, "activity_id": 7, "type_uid": 600107, "status": "Unknown",
        "time": T_10H, "severity_id": 2, "actor.user.name": "ana", "src_endpoint.ip": "10.0.0.2",
        "gxp.batch": "B-1", "gxp.record_type": "audit_trail",
    }


# --- properties ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1772359200000, T_10H), (1772359200, T_10H), ("1772359200.5", T_10H + 500),
        ("2026-03-01T10:00:00Z", T_10H), ("Mar 01 2026 10:00:00.250", T_10H + 250),
        ("2026-03-01T11:00:00+01:00", T_10H), ("soon", None), (True, None), (-5, None), ("", None),
    ],
)
def test_parse_time(value: object, expected: int | None) -> None:
    assert ocsf.parse_time(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 1), ("3", 2), ("5", 3), ("8", 4), ("10", 5), ("Very-High", 5), ("Low", 2), ("?", 0)],
)
def test_severity_scale(value: str, expected: int) -> None:
    assert ocsf.severity_from_scale(value) == expected


def _check_shape(event: dict[str, Any]) -> None:
    assert isinstance(event["class_uid"], int)
    assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
    assert isinstance(event["time"], int)
    assert event["severity_id"] in ocsf.SEVERITIES
    assert event["status"] in ocsf.STATUSES.values()
    assert isinstance(event["message"], str)
    assert set(ocsf.GXP_FIELDS) <= set(event["gxp"])
    assert isinstance(event["gxp"].get("record_count", 0), int)
    for path in ("actor.user.name", "src_endpoint.ip", "user.name"):
        assert get(event, path) is None or isinstance(get(event, path), str)


_lines = st.one_of(
    st.builds(lambda m: f"<13>Mar  1 10:00:00 host app[1]: {m}", st.text(max_size=120)),
    st.builds(lambda m: f"<13>1 - host app - - - {m}", st.text(max_size=120)),
    st.sampled_from(["Failed password for ", "PLC config downloaded by x", "user=", "action=a.b ",
                     "outcome=", "Accepted key for a from 1.2.3.4", "4625", "login failed ",
                     "src_ip=1.2.3.4 "]).flatmap(
        lambda prefix: st.text(max_size=60).map(lambda t: f"<13>Mar  1 10:00:00 h t: {prefix}{t}")
    ),
)


@given(line=_lines)
@settings(max_examples=500, deadline=None)
def test_fuzz_syslog_normalization_is_well_shaped(line: str) -> None:
    try:
        parsed = parse_line(line, "syslog", received_at=RECEIVED)
    except ParseError:
        return
    _check_shape(normalize(parsed, source=SOURCE, received_at=RECEIVED))


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                     st.floats(allow_nan=False, allow_infinity=False))


@given(record=st.dictionaries(
    st.sampled_from(["kind", "created_at", "time", "severity", "username", "source_ip", "message",
                     "data", "action", "outcome", "user", "timestamp", "class_uid", "activity_id",
                     "severity_id", "status_id", "actor", "gxp", "metadata", "msg"]),
    st.one_of(_scalars, st.dictionaries(st.text(max_size=8), _scalars, max_size=3)),
    max_size=8,
))
@settings(max_examples=500, deadline=None)
def test_fuzz_json_normalization_raises_only_parse_error(record: dict[str, Any]) -> None:
    try:
        event = normalize(record, source=SOURCE, received_at=RECEIVED)
    except ParseError as exc:
        assert exc.reason == "invalid_ocsf"  # noqa: PT017 - hypothesis drives the input
        return
    _check_shape(event)


@pytest.mark.parametrize(("field", "value"), [("severity_id", 7), ("status_id", 3)])
def test_ocsf_passthrough_refuses_ids_outside_the_enumeration(field: str, value: int) -> None:
    record = {"class_uid": 3002, "activity_id": 1, "time": 1772359200000, field: value}
    with pytest.raises(ParseError) as refused:
        normalize(record, source=SOURCE, received_at=RECEIVED)
    assert (refused.value.reason, field in str(refused.value)) == ("invalid_ocsf", True)
