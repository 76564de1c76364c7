"""Normalizers of JSON objects: cyberqms SecurityEvent records (``kind``, mapped by
``QMS_KINDS``), flat ``key: value`` application logs, and events already in OCSF shape
(passthrough, checked: a malformed one raises ``ParseError("invalid_ocsf")``). Documented in
docs/monitoring-formats.md. Pure functions, no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..parsers import ParseError
from .building import (
    SourceInfo,
    _apply_classification,
    _apply_gxp,
    _resolve,
    _set_user,
    _status,
    event_gxp_defaults,
    new_event,
)
from .fields import _put2, get, parse_time, put
from .patterns import classify_action, classify_message
from .vocabulary import (
    _QMS_SEVERITY,
    ACCOUNT_CHANGE,
    API_ACTIVITY,
    AUTHENTICATION,
    BASE_EVENT,
    DETECTION_FINDING,
    OCSF_VERSION,
    SEVERITIES,
    STATUS_FAILURE,
    STATUS_SUCCESS,
    STATUS_UNKNOWN,
    STATUSES,
    WEB_RESOURCES_ACTIVITY,
    severity_from_scale,
)

# cyberqms SecurityEvent kinds (core/events.py callers) → (class_uid, activity_id, status_id).
QMS_KINDS: Final[dict[str, tuple[int, int, int]]] = {
    "auth.login.success": (AUTHENTICATION, 1, STATUS_SUCCESS),
    "auth.login.failure": (AUTHENTICATION, 1, STATUS_FAILURE),
    "auth.login.failed": (AUTHENTICATION, 1, STATUS_FAILURE),
    "auth.mfa.failure": (AUTHENTICATION, 1, STATUS_FAILURE),
    "auth.token.rejected": (AUTHENTICATION, 99, STATUS_FAILURE),
    "auth.logout": (AUTHENTICATION, 2, STATUS_SUCCESS),
    "auth.session.idle_timeout": (AUTHENTICATION, 2, STATUS_SUCCESS),
    "esig.failure": (AUTHENTICATION, 99, STATUS_FAILURE),
    "auth.lockout": (ACCOUNT_CHANGE, 9, STATUS_SUCCESS),
    "auth.unlock": (ACCOUNT_CHANGE, 12, STATUS_SUCCESS),
    "account.created": (ACCOUNT_CHANGE, 1, STATUS_SUCCESS),
    "account.reactivated": (ACCOUNT_CHANGE, 2, STATUS_SUCCESS),
    "account.password_changed": (ACCOUNT_CHANGE, 3, STATUS_SUCCESS),
    "account.password_reset": (ACCOUNT_CHANGE, 4, STATUS_SUCCESS),
    "account.deactivated": (ACCOUNT_CHANGE, 5, STATUS_SUCCESS),
    "account.role_granted": (ACCOUNT_CHANGE, 7, STATUS_SUCCESS),
    "account.role_revoked": (ACCOUNT_CHANGE, 8, STATUS_SUCCESS),
    "account.mfa.added": (ACCOUNT_CHANGE, 10, STATUS_SUCCESS),
    "account.mfa.removed": (ACCOUNT_CHANGE, 11, STATUS_SUCCESS),
    "account.token_created": (ACCOUNT_CHANGE, 99, STATUS_SUCCESS),
    "account.token_revoked": (ACCOUNT_CHANGE, 99, STATUS_SUCCESS),
    "trail.integrity.failure": (DETECTION_FINDING, 1, STATUS_FAILURE),
    "trail.integrity.failure.persisting": (DETECTION_FINDING, 2, STATUS_FAILURE),
    "trail.seal.refused": (DETECTION_FINDING, 1, STATUS_FAILURE),
    "trail.seq.voided": (DETECTION_FINDING, 1, STATUS_SUCCESS),
    "trail.review.discrepancy": (DETECTION_FINDING, 1, STATUS_FAILURE),
    "trail.key.rotated": (API_ACTIVITY, 3, STATUS_SUCCESS),
    "access.denied": (API_ACTIVITY, 99, STATUS_FAILURE),
    "access.finding.raised": (DETECTION_FINDING, 1, STATUS_SUCCESS),
    "backup.restore_test.failed": (DETECTION_FINDING, 1, STATUS_FAILURE),
    "backup.restored": (API_ACTIVITY, 99, STATUS_SUCCESS),
    "trail.export.create": (WEB_RESOURCES_ACTIVITY, 7, STATUS_SUCCESS),
}
_QMS_RECORD_TYPES: Final = {
    "esig.failure": "electronic_signature",
    "trail.": "audit_trail",
}
_QMS_NOTES: Final = {
    "esig.failure": "Electronic signature rejected (21 CFR 11.200, EU GMP Annex 11 §14): "
    "a failed signature is an authentication failure on a GxP record.",
    "trail.integrity.failure": "Audit-trail verification failed (21 CFR 11.10(e)).",
}


def _text(value: object) -> str | None:
    """A non-empty string value, else None (JSON input may carry anything)."""
    return value if isinstance(value, str) and value else None


def _from_qms(record: Mapping[str, Any], source: SourceInfo, fallback_ms: int) -> dict[str, Any]:
    kind = str(record.get("kind") or "")
    data = record.get("data")
    data = data if isinstance(data, Mapping) else {}
    mapped = QMS_KINDS.get(kind)
    record_type: str | None = None
    if mapped is None:
        by_action = classify_action(kind)
        if by_action is not None:
            class_uid, activity_id, record_type = by_action
            mapped = (class_uid, activity_id, _status(str(data.get("outcome") or "")) or 1)
        elif kind.startswith("auth."):
            mapped = (AUTHENTICATION, 99, STATUS_UNKNOWN)
        elif kind.startswith("account."):
            mapped = (ACCOUNT_CHANGE, 99, STATUS_SUCCESS)
        else:
            mapped = (BASE_EVENT, 0, STATUS_UNKNOWN)
    class_uid, activity_id, status_id = mapped
    time = parse_time(record.get("created_at") or record.get("time"))
    severity = str(record.get("severity") or "").lower()
    event = new_event(
        class_uid,
        activity_id,
        time=time if time is not None else fallback_ms,
        severity_id=_QMS_SEVERITY.get(severity, 0),
        status_id=status_id,
        message=str(record.get("message") or ""),
        source=source,
    )
    username = _text(record.get("username"))
    subject = _text(data.get("subject"))
    if class_uid == ACCOUNT_CHANGE:
        put(event, "actor.user.name", username)
        _put2(event, "user", "name", subject or username)
    else:
        _set_user(event, username)
    if record.get("actor_id") is not None:
        put(event, "actor.user.uid", str(record["actor_id"]))
    _put2(event, "src_endpoint", "ip", _text(record.get("source_ip")))
    _put2(event, "policy", "name", _text(data.get("role")))
    if activity_id == 99 and class_uid == AUTHENTICATION and kind == "esig.failure":
        event["activity_name"] = "Electronic Signature"
        event["type_name"] = "Authentication: Electronic Signature"
    metadata = event["metadata"]
    metadata["product"] = {"vendor_name": "cyberqms", "name": "cyberqms"}
    metadata["event_code"] = kind
    put(metadata, "original_time", record.get("created_at"))
    gxp = event["gxp"]
    for prefix, rtype in _QMS_RECORD_TYPES.items():
        if kind == prefix or (prefix.endswith(".") and kind.startswith(prefix)):
            gxp["record_type"] = rtype
    if record_type:
        gxp["record_type"] = record_type
    note = _QMS_NOTES.get(kind)
    if note:
        gxp["note"] = note
    _apply_gxp(event, data)
    _put2(event, "unmapped", "channel", record.get("channel") or None)
    if data:
        _put2(event, "unmapped", "data", dict(data))
    return event


def _from_json(record: Mapping[str, Any], source: SourceInfo, fallback_ms: int) -> dict[str, Any]:
    """A JSON object of neither known shape: a flat ``key: value`` application log."""
    values = {str(k): v for k, v in record.items()}
    text = str(values.get("message") or values.get("msg") or "")
    found = classify_message(text)
    outcome = values.get("outcome")
    action = values.get("action")
    class_uid, activity_id, status_id, found = _resolve(
        found,
        action if isinstance(action, str) else None,
        _status(outcome) if isinstance(outcome, str) else None,
    )
    time = parse_time(values.get("time") or values.get("timestamp") or values.get("@timestamp"))
    severity = values.get("severity")
    event = new_event(
        class_uid,
        activity_id,
        time=time if time is not None else fallback_ms,
        severity_id=severity_from_scale(str(severity)) if severity is not None else 0,
        status_id=status_id,
        message=text,
        source=source,
    )
    _apply_classification(
        event,
        found,
        user=_text(values.get("user")) or _text(values.get("username")),
        ip=_text(values.get("src_ip"))
        or _text(values.get("source_ip"))
        or _text(values.get("src")),
    )
    _apply_gxp(event, values)
    _put2(event, "unmapped", "fields", values)
    return event


def _require_int(record: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ParseError("invalid_ocsf", f"{key} must be an integer in {low}..{high}")
    return value


def _from_ocsf(record: Mapping[str, Any], source: SourceInfo, fallback_ms: int) -> dict[str, Any]:
    """Passthrough of an event already in OCSF shape, checked and completed."""
    class_uid = _require_int(record, "class_uid", 0, 999_999)
    if class_uid is None:
        raise ParseError("invalid_ocsf", "class_uid is required")
    activity_id = _require_int(record, "activity_id", 0, 99) or 0
    severity_id = _require_int(record, "severity_id", 0, 99) or 0
    if severity_id not in SEVERITIES:
        raise ParseError("invalid_ocsf", "severity_id must be 0-6 or 99")
    status_id = _require_int(record, "status_id", 0, 99)
    if status_id is not None and status_id not in STATUSES:
        raise ParseError("invalid_ocsf", "status_id must be 0, 1, 2 or 99")
    raw_time = record.get("time")
    time = parse_time(raw_time) if raw_time is not None else fallback_ms
    if time is None:
        raise ParseError("invalid_ocsf", "time is not epoch milliseconds or ISO 8601")
    for key in ("metadata", "actor", "src_endpoint", "dst_endpoint", "device", "gxp", "user"):
        if key in record and not isinstance(record[key], Mapping):
            raise ParseError("invalid_ocsf", f"{key} must be an object")
    message = record.get("message", "")
    if not isinstance(message, str):
        raise ParseError("invalid_ocsf", "message must be a string")
    for path in ("actor.user.name", "user.name", "src_endpoint.ip", "dst_endpoint.ip"):
        value = get(record, path)
        if value is not None and not isinstance(value, str):
            raise ParseError("invalid_ocsf", f"{path} must be a string")
    if status_id is None:
        status_id = _status(str(record.get("status", ""))) or STATUS_UNKNOWN
    event = new_event(
        class_uid,
        activity_id,
        time=time,
        severity_id=severity_id,
        status_id=status_id,
        message=message,
        source=source,
    )
    for key, value in record.items():
        if key in event and key not in ("metadata", "gxp"):
            continue  # derived names stay consistent with the ids
        event[key] = dict(value) if isinstance(value, Mapping) else value
    metadata = record.get("metadata")
    if isinstance(metadata, Mapping):
        event["metadata"] = {**dict(metadata), "log_name": source.name}
        event["metadata"].setdefault("version", OCSF_VERSION)
        event["metadata"].setdefault("product", {})
    event["time"] = time
    gxp = record.get("gxp") or get(record, "unmapped.gxp")
    if isinstance(gxp, Mapping):
        event["gxp"] = {**event_gxp_defaults(source), **{k: gxp[k] for k in gxp}}
    else:
        event["gxp"] = event_gxp_defaults(source)
    return event
