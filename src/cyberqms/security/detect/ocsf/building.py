"""Building one OCSF event: the registered source (``SourceInfo``), ``new_event`` with the
derived class, category, activity and type names and the GxP defaults
(``event_gxp_defaults``), and the steps every normalizer shares: actor and target user, GxP
fields from loosely spelled keys, outcome words, and resolving the class from an action,
a message pattern and an explicit outcome. Pure functions, no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from .fields import _put2, put
from .patterns import Classification, classify_action
from .vocabulary import (
    _OUTCOMES,
    ACCOUNT_CHANGE,
    AUTHENTICATION,
    BASE_EVENT,
    CATEGORIES,
    CLASSES,
    OCSF_VERSION,
    SEVERITIES,
    STATUS_UNKNOWN,
    STATUSES,
)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A registered event source: its name, kind (``syslog``, ``cef``, ``leef``, ``jsonl``,
    ``qms`` …) and the GxP site and system its events belong to unless they say otherwise."""

    name: str
    kind: str = ""
    site: str = ""
    system: str = ""


# --- event building ------------------------------------------------------------------------


def new_event(
    class_uid: int,
    activity_id: int,
    *,
    time: int,
    severity_id: int,
    status_id: int,
    message: str,
    source: SourceInfo,
) -> dict[str, Any]:
    """An OCSF dict with the classification, time, severity, status and GxP defaults set."""
    class_name, category_uid, category_name, activity_name, type_name = _names(
        class_uid, activity_id)
    return {
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "category_name": category_name,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity_id,
        "type_name": type_name,
        "time": time,
        "severity_id": severity_id,
        "severity": SEVERITIES.get(severity_id, "Unknown"),
        "status_id": status_id,
        "status": STATUSES.get(status_id, "Unknown"),
        "message": message,
        "metadata": {"version": OCSF_VERSION, "log_name": source.name, "product": {}},
        "gxp": event_gxp_defaults(source),
    }


@lru_cache(maxsize=1024)  # bounded: OCSF passthrough input may carry any ids
def _names(class_uid: int, activity_id: int) -> tuple[str, int, str, str, str]:
    """(class name, category uid, category name, activity name, type name)."""
    class_name, activities = CLASSES.get(class_uid, ("Unknown", {}))
    category_uid = class_uid // 1000
    activity_name = activities.get(activity_id, "Other" if activity_id == 99 else "Unknown")
    return (class_name, category_uid, CATEGORIES.get(category_uid, "Unknown"), activity_name,
            f"{class_name}: {activity_name}")


def _set_user(event: dict[str, Any], user: str | None, *, target: str | None = None) -> None:
    """Actor and (for authentication and account changes) target user."""
    put(event, "actor.user.name", user)
    if event["class_uid"] in (AUTHENTICATION, ACCOUNT_CHANGE):
        _put2(event, "user", "name", target or user)


def _apply_gxp(event: dict[str, Any], values: Mapping[str, Any]) -> None:
    """GxP fields from a mapping whose keys are matched loosely (``Record Type``, ``recordType``,
    ``record_type``)."""
    for key, value in values.items():
        target = _gxp_target(key)
        if target is None or value is None or value == "":
            continue
        text = value if value.__class__ is str else str(value)
        if target == "gxp.record_count":
            if text.isascii() and text.isdigit():
                event["gxp"]["record_count"] = int(text)
        elif target == "group.name":
            put(event, target, text)
        else:
            event["gxp"][target[4:]] = text


@lru_cache(maxsize=1024)  # bounded: keys come from the input
def _gxp_target(key: str) -> str | None:
    return _GXP_KEYS.get(key.lower().replace(" ", "").replace("_", "").replace("-", ""))


# Loosely spelled input keys (case, spaces, "_" and "-" ignored) → where they go.
_GXP_KEYS: Final = {
    "site": "gxp.site", "plant": "gxp.site", "system": "gxp.system",
    "equipment": "gxp.equipment", "equipmentid": "gxp.equipment",
    "batch": "gxp.batch", "batchid": "gxp.batch", "lot": "gxp.batch",
    "recordtype": "gxp.record_type",
    "changeref": "gxp.change_ref", "changecontrol": "gxp.change_ref",
    "changerequest": "gxp.change_ref", "cc": "gxp.change_ref",
    "changestate": "gxp.change_state",
    "count": "gxp.record_count", "recordcount": "gxp.record_count",
    "group": "group.name", "groupname": "group.name",
}  # fmt: skip


def _status(value: str | None) -> int | None:
    if not value:
        return None
    return _OUTCOMES.get(value.strip().lower())


def _apply_classification(
    event: dict[str, Any], found: Classification | None, *, user: str | None, ip: str | None
) -> None:
    fields = found.fields if found is not None else {}
    _set_user(event, user or fields.get("user"), target=fields.get("target"))
    _put2(event, "src_endpoint", "ip", ip or fields.get("ip"))
    if found is not None:
        if fields.get("host"):
            _put2(event, "src_endpoint", "hostname", fields["host"])
        if fields.get("port"):
            port = int(fields["port"])
            if port <= 65535:
                _put2(event, "src_endpoint", "port", port)
        if found.record_type and not event["gxp"]["record_type"]:
            event["gxp"]["record_type"] = found.record_type
        if fields.get("equipment") and not event["gxp"]["equipment"]:
            event["gxp"]["equipment"] = fields["equipment"]
        if fields.get("group"):
            _put2(event, "group", "name", fields["group"])
        _put2(event, "unmapped", "pattern", found.pattern)


def _resolve(
    found: Classification | None, action: str | None, status: int | None
) -> tuple[int, int, int, Classification | None]:
    """(class_uid, activity_id, status_id, classification) from an action name, a message
    pattern and an explicit outcome, in that order of trust."""
    by_action = classify_action(action) if action else None
    if by_action is not None:
        class_uid, activity_id, record_type = by_action
        carried = found.fields if found is not None else {}
        found = Classification(
            class_uid, activity_id, STATUS_UNKNOWN, record_type, carried, "action"
        )
    if found is None:
        return BASE_EVENT, 0, status if status is not None else STATUS_UNKNOWN, None
    final_status = status if status is not None else found.status_id
    return found.class_uid, found.activity_id, final_status, found


def event_gxp_defaults(source: SourceInfo) -> dict[str, Any]:
    """The GxP extension with the source's site and system and nothing else known."""
    return {
        "site": source.site or None,
        "system": source.system or None,
        "equipment": None,
        "batch": None,
        "record_type": None,
        "change_ref": None,
    }
