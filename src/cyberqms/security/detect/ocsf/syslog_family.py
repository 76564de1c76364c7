"""Normalizers of the syslog family: RFC 3164 and RFC 5424 messages (with their structured
data or ``key=value`` pairs) and the CEF and LEEF events that may arrive inside them, with
the tables of CEF key aliases and of the CEF and LEEF keys given an OCSF home (the rest go
under ``unmapped``). Documented in docs/monitoring-formats.md. Pure functions, no Django.
"""

from __future__ import annotations

from typing import Any, Final

from ..parsers import CefEvent, LeefEvent, SyslogMessage
from .building import (
    SourceInfo,
    _apply_classification,
    _apply_gxp,
    _resolve,
    _status,
    new_event,
)
from .fields import _put2, epoch_ms, get, parse_time, put
from .patterns import classify_action, classify_message, key_values
from .vocabulary import (
    _SYSLOG_SEVERITY,
    ACCOUNT_CHANGE,
    AUTHENTICATION,
    BASE_EVENT,
    DEVICE_CONFIG_CHANGE,
    NETWORK_ACTIVITY,
    STATUS_FAILURE,
    severity_from_scale,
)


def _syslog_time(message: SyslogMessage | None, fallback_ms: int) -> int:
    if message is not None and message.timestamp is not None:
        return epoch_ms(message.timestamp)
    return fallback_ms


def _from_syslog(msg: SyslogMessage, source: SourceInfo, fallback_ms: int) -> dict[str, Any]:
    # Structured data (RFC 5424) or key=value pairs in the text (RFC 3164) may carry the
    # application's own fields; an SD-ID "gxp@<PEN>" is cyberqms's convention for them.
    values: dict[str, str] = {}
    for sd_id, params in msg.structured_data.items():
        if sd_id.split("@", 1)[0] in ("gxp", "cyberqms", "meta", "origin"):
            values.update(params)
    text = msg.message
    if msg.format == "rfc3164" and "=" in text:
        values.update(key_values(text))
        text = values.get("msg", text)
    action = values.get("action")
    found = None if action and classify_action(action) else classify_message(text)
    class_uid, activity_id, status_id, found = _resolve(
        found, action, _status(values.get("outcome"))
    )
    event = new_event(
        class_uid,
        activity_id,
        time=_syslog_time(msg, fallback_ms),
        severity_id=_SYSLOG_SEVERITY[msg.severity],
        status_id=status_id,
        message=text,
        source=source,
    )
    _apply_gxp(event, values)
    _apply_classification(
        event,
        found,
        user=values.get("user") or values.get("suser") or values.get("usrName"),
        ip=values.get("src_ip") or values.get("src"),
    )
    _put2(event, "src_endpoint", "hostname", values.get("src_host"))
    _put2(event, "device", "hostname", msg.hostname)
    metadata = event["metadata"]
    _put2(metadata, "product", "name", msg.app_name)
    _put2(metadata, "product", "vendor_name", values.get("vendor"))
    put(metadata, "event_code", msg.msgid or values.get("action"))
    put(metadata, "original_time", msg.timestamp_text)
    put(event, "unmapped.syslog.facility", msg.facility_name)
    put(event, "unmapped.syslog.severity", msg.severity_name)
    put(event, "unmapped.syslog.procid", msg.procid)
    if msg.structured_data:
        _put2(event, "unmapped", "sd", msg.structured_data)
    if values:
        _put2(event, "unmapped", "fields", values)
    return event


# CEF full names seen in the wild for the keys mapped below.
_CEF_ALIASES: Final = {
    "sourceAddress": "src", "destinationAddress": "dst", "sourceUserName": "suser",
    "destinationUserName": "duser", "deviceAction": "act", "sourceHostName": "shost",
    "destinationHostName": "dhost", "deviceHostName": "dvchost", "deviceAddress": "dvc",
    "sourcePort": "spt", "destinationPort": "dpt", "message": "msg", "receiptTime": "rt",
    "eventOutcome": "outcome", "deviceEventCategory": "cat", "fileName": "fname",
}  # fmt: skip
_CEF_MAPPED: Final = frozenset(
    {"src", "dst", "suser", "duser", "act", "shost", "dhost", "dvchost", "dvc", "spt", "dpt",
     "msg", "rt", "outcome", "cat", "fname", "filePath", "deviceExternalId", "start", "end"}
)  # fmt: skip


def _port(value: str | None) -> int | None:
    if value and value.isascii() and value.isdigit() and int(value) <= 65535:
        return int(value)
    return None


def _from_cef(cef: CefEvent, source: SourceInfo, fallback_ms: int) -> dict[str, Any]:
    ext = cef.extension
    if not _CEF_ALIASES.keys().isdisjoint(ext):
        ext = {_CEF_ALIASES.get(k, k): v for k, v in ext.items()}
    text = ext.get("msg") or cef.name
    found = classify_message(f"{cef.name} {text}" if text != cef.name else text)
    action = ext.get("cat") if "." in ext.get("cat", "") else None
    status = _status(ext.get("outcome"))
    if status is None and found is None:
        status = _status(ext.get("act"))
    class_uid, activity_id, status_id, found = _resolve(found, action, status)
    if class_uid == BASE_EVENT and "src" in ext and "dst" in ext:
        # A connection between two addresses that no pattern recognised: network traffic,
        # refused when the device says it blocked it.
        class_uid = NETWORK_ACTIVITY
        activity_id = 5 if status_id == STATUS_FAILURE and "act" in ext else 6
    time = parse_time(ext["rt"]) if "rt" in ext else None
    if time is None and "end" in ext:
        time = parse_time(ext["end"])
    event = new_event(
        class_uid,
        activity_id,
        time=time if time is not None else _syslog_time(cef.syslog, fallback_ms),
        severity_id=severity_from_scale(cef.severity),
        status_id=status_id,
        message=text,
        source=source,
    )
    suser, duser = ext.get("suser"), ext.get("duser")
    if class_uid == AUTHENTICATION:
        # The account signing in is the user; a separate suser is whoever asked.
        user, target = (suser or duser), (duser or suser)
    else:
        user, target = suser, duser
    _apply_classification(event, found, user=user, ip=ext.get("src"))
    if target and class_uid == ACCOUNT_CHANGE:
        _put2(event, "user", "name", target)
    elif duser and class_uid != AUTHENTICATION:
        _put2(event, "unmapped", "duser", duser)
    _put2(event, "src_endpoint", "hostname", ext.get("shost"))
    _put2(event, "src_endpoint", "port", _port(ext.get("spt")))
    _put2(event, "dst_endpoint", "ip", ext.get("dst"))
    _put2(event, "dst_endpoint", "hostname", ext.get("dhost"))
    _put2(event, "dst_endpoint", "port", _port(ext.get("dpt")))
    _put2(event, "device", "hostname", ext.get("dvchost") or (cef.syslog and cef.syslog.hostname))
    _put2(event, "device", "ip", ext.get("dvc"))
    _put2(event, "device", "uid", ext.get("deviceExternalId"))
    put(event, "action", ext.get("act"))
    _put2(event, "file", "name", ext.get("fname"))
    _put2(event, "file", "path", ext.get("filePath"))
    _put2(event, "unmapped", "category", ext.get("cat"))
    metadata = event["metadata"]
    metadata["product"] = {
        "vendor_name": cef.device_vendor,
        "name": cef.device_product,
        "version": cef.device_version,
    }
    metadata["event_code"] = cef.signature_id
    put(metadata, "original_time", ext.get("rt") or (cef.syslog and cef.syslog.timestamp_text))
    _apply_gxp(event, cef.labels)
    if found is not None and found.fields.get("equipment") and not event["gxp"]["equipment"]:
        event["gxp"]["equipment"] = found.fields["equipment"]
    if class_uid == DEVICE_CONFIG_CHANGE and not event["gxp"]["equipment"]:
        event["gxp"]["equipment"] = get(event, "device.hostname")
    if cef.labels:
        _put2(event, "unmapped", "labels", cef.labels)
    # Unmapped keys, without labels and the labelled values (cs1 when cs1Label is set).
    rest = {
        k: v
        for k, v in ext.items()
        if k not in _CEF_MAPPED and not k.endswith("Label") and k + "Label" not in ext
    }
    if rest:
        _put2(event, "unmapped", "cef", rest)
    return event


_LEEF_MAPPED: Final = frozenset(
    {"usrName", "src", "dst", "srcPort", "dstPort", "cat", "sev", "devTime", "devTimeFormat",
     "srcHost", "dstHost", "identHostName", "dvchost", "msg", "outcome", "targetUser",
     "action", "proto"}
)  # fmt: skip


def _from_leef(leef: LeefEvent, source: SourceInfo, fallback_ms: int) -> dict[str, Any]:
    attrs = leef.attributes
    text = attrs.get("msg") or f"{leef.event_id} {attrs.get('cat', '')}".strip()
    action = attrs.get("action")
    found = (
        None
        if action and classify_action(action)
        else classify_message(f"{leef.event_id} {attrs.get('cat', '')} {attrs.get('msg', '')}")
    )
    class_uid, activity_id, status_id, found = _resolve(
        found, action, _status(attrs.get("outcome"))
    )
    if attrs.get("isLoginEvent", "").lower() == "true" and class_uid == BASE_EVENT:
        class_uid, activity_id = AUTHENTICATION, 1
    time = parse_time(attrs["devTime"]) if "devTime" in attrs else None
    event = new_event(
        class_uid,
        activity_id,
        time=time if time is not None else _syslog_time(leef.syslog, fallback_ms),
        severity_id=severity_from_scale(attrs.get("sev", "")),
        status_id=status_id,
        message=text,
        source=source,
    )
    target = attrs.get("targetUser")
    _apply_classification(event, found, user=attrs.get("usrName"), ip=attrs.get("src"))
    if target:
        _put2(event, "user", "name", target)
    _put2(event, "src_endpoint", "hostname", attrs.get("srcHost") or attrs.get("identHostName"))
    _put2(event, "src_endpoint", "port", _port(attrs.get("srcPort")))
    _put2(event, "dst_endpoint", "ip", attrs.get("dst"))
    _put2(event, "dst_endpoint", "hostname", attrs.get("dstHost"))
    _put2(event, "dst_endpoint", "port", _port(attrs.get("dstPort")))
    _put2(event, "device", "hostname",
          attrs.get("dvchost") or (leef.syslog and leef.syslog.hostname))
    _put2(event, "unmapped", "category", attrs.get("cat"))
    metadata = event["metadata"]
    metadata["product"] = {
        "vendor_name": leef.vendor,
        "name": leef.product,
        "version": leef.product_version,
    }
    metadata["event_code"] = leef.event_id
    put(metadata, "original_time", attrs.get("devTime"))
    _apply_gxp(event, attrs)
    rest = {k: v for k, v in attrs.items() if k not in _LEEF_MAPPED}
    if rest:
        _put2(event, "unmapped", "leef", rest)
    return event
