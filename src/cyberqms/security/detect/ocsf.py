"""Normalization of parsed events to OCSF-shaped dicts, plus the GxP extension.

``normalize(parsed, source=…)`` turns what a parser returned (``SyslogMessage``, ``CefEvent``,
``LeefEvent`` or a JSON object) into a plain dict following OCSF 1.x: ``class_uid``,
``category_uid``, ``activity_id``, ``type_uid``, ``time`` (epoch milliseconds),
``severity_id``, ``status_id``/``status``, ``message``, ``actor.user.name``,
``src_endpoint``/``dst_endpoint``, ``device``, ``metadata.product`` … and a top-level ``gxp``
object (site, system, equipment, batch, record_type) that OCSF does not define. Fields
without an OCSF home go under ``unmapped``. ``get(event, "actor.user.name")`` reads a
dotted path. The mapping per input format is documented in docs/monitoring-formats.md.

Pure functions without Django.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

from .parsers import CefEvent, LeefEvent, ParseError, SyslogMessage

OCSF_VERSION: Final = "1.3.0"


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A registered event source: its name, kind (``syslog``, ``cef``, ``leef``, ``jsonl``,
    ``qms`` …) and the GxP site and system its events belong to unless they say otherwise."""

    name: str
    kind: str = ""
    site: str = ""
    system: str = ""


# --- OCSF vocabulary -----------------------------------------------------------------------

BASE_EVENT: Final = 0
FILE_ACTIVITY: Final = 1001
PROCESS_ACTIVITY: Final = 1007
DETECTION_FINDING: Final = 2004
ACCOUNT_CHANGE: Final = 3001
AUTHENTICATION: Final = 3002
NETWORK_ACTIVITY: Final = 4001
DEVICE_CONFIG_CHANGE: Final = 5019
WEB_RESOURCES_ACTIVITY: Final = 6001
API_ACTIVITY: Final = 6003

CATEGORIES: Final = {
    0: "Uncategorized",
    1: "System Activity",
    2: "Findings",
    3: "Identity & Access Management",
    4: "Network Activity",
    5: "Discovery",
    6: "Application Activity",
}
_CRUD: Final = {1: "Create", 2: "Read", 3: "Update", 4: "Delete"}
CLASSES: Final[dict[int, tuple[str, dict[int, str]]]] = {
    BASE_EVENT: ("Base Event", {}),
    FILE_ACTIVITY: ("File System Activity", {**_CRUD, 5: "Rename", 14: "Open"}),
    PROCESS_ACTIVITY: ("Process Activity", {1: "Launch", 2: "Terminate", 3: "Open"}),
    DETECTION_FINDING: ("Detection Finding", {1: "Create", 2: "Update", 3: "Close"}),
    ACCOUNT_CHANGE: (
        "Account Change",
        {
            1: "Create",
            2: "Enable",
            3: "Password Change",
            4: "Password Reset",
            5: "Disable",
            6: "Delete",
            7: "Attach Policy",
            8: "Detach Policy",
            9: "Lock",
            10: "MFA Factor Enable",
            11: "MFA Factor Disable",
            12: "Unlock",
        },
    ),
    AUTHENTICATION: ("Authentication", {1: "Logon", 2: "Logoff", 3: "Authentication Ticket"}),
    NETWORK_ACTIVITY: (
        "Network Activity",
        {1: "Open", 2: "Close", 3: "Reset", 4: "Fail", 5: "Refuse", 6: "Traffic"},
    ),
    DEVICE_CONFIG_CHANGE: ("Device Config State Change", {1: "Log", 2: "Collect"}),
    WEB_RESOURCES_ACTIVITY: (
        "Web Resources Activity",
        {**_CRUD, 5: "Search", 6: "Import", 7: "Export", 8: "Share"},
    ),
    API_ACTIVITY: ("API Activity", _CRUD),
}
SEVERITIES: Final = {
    0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical",
    6: "Fatal", 99: "Other",
}  # fmt: skip
STATUS_UNKNOWN, STATUS_SUCCESS, STATUS_FAILURE = 0, 1, 2
STATUSES: Final = {0: "Unknown", 1: "Success", 2: "Failure", 99: "Other"}
GXP_FIELDS: Final = ("site", "system", "equipment", "batch", "record_type", "change_ref")

# Syslog severity 0..7 (emerg..debug) → OCSF severity_id.
_SYSLOG_SEVERITY: Final = (5, 5, 5, 4, 3, 2, 1, 1)
# cyberqms SecurityEvent severities → OCSF severity_id.
_QMS_SEVERITY: Final = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_WORD_SEVERITY: Final = {
    **_QMS_SEVERITY, "unknown": 0, "informational": 1, "very-high": 5, "very high": 5,
    "warning": 3, "error": 4, "fatal": 6,
}  # fmt: skip
_OUTCOMES: Final = {
    "success": 1, "succeeded": 1, "successful": 1, "ok": 1, "allow": 1, "allowed": 1,
    "accept": 1, "accepted": 1, "permit": 1, "true": 1,
    "failure": 2, "fail": 2, "failed": 2, "denied": 2, "deny": 2, "blocked": 2, "block": 2,
    "reject": 2, "rejected": 2, "drop": 2, "error": 2, "false": 2,
}  # fmt: skip


def severity_from_scale(value: str) -> int:
    """OCSF severity_id of a CEF/LEEF severity: 0-10 or Low/Medium/High/Very-High."""
    text = value.strip()
    if text.isascii() and text.isdigit():
        n = int(text)
        if n == 0:
            return 1
        if n <= 3:
            return 2
        if n <= 6:
            return 3
        if n <= 8:
            return 4
        return 5
    return _WORD_SEVERITY.get(text.lower(), 0)


# --- dotted access -------------------------------------------------------------------------


def get(event: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at a dotted path (``"actor.user.name"``), or ``default``."""
    current: Any = event
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return default
    return current


def put(event: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path, creating the objects on the way; ``None`` and ``""`` are skipped."""
    if value is None or value == "":
        return
    parents, last = _split_path(path)
    current = event
    for part in parents:
        child = current.get(part)
        if child.__class__ is not dict:
            child = current[part] = {}
        current = child
    current[last] = value


def _put2(event: dict[str, Any], outer: str, key: str, value: Any) -> None:
    """``put`` for a two-part path (``src_endpoint.ip``), the common case, without the
    path split."""
    if value is None or value == "":
        return
    child = event.get(outer)
    if child.__class__ is not dict:
        child = event[outer] = {}
    child[key] = value


@lru_cache(maxsize=512)
def _split_path(path: str) -> tuple[tuple[str, ...], str]:
    parts = path.split(".")
    return tuple(parts[:-1]), parts[-1]


# --- time ----------------------------------------------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MS: Final = timedelta(milliseconds=1)
_CEF_DATE = re.compile(
    r"([A-Z][a-z]{2}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?"
    r"(?: (?:UTC|GMT|Z))?\Z",
    re.ASCII,
)
_MONTHS: Final = {
    m: i for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}  # fmt: skip


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is read as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


def parse_time(value: object) -> int | None:
    """Epoch ms from epoch seconds or milliseconds, ISO 8601 or ``MMM dd yyyy HH:mm:ss``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return epoch_ms(value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            number = float(text) if text[0].isdigit() and text.isascii() else float("nan")
        except ValueError:
            number = float("nan")
        if number != number:  # not a number: a date text
            return _parse_date_text(text)
    else:
        return None
    if not (0 <= number < 1e14):
        return None
    return int(number) if number >= 1e11 else int(number * 1000)


def _parse_date_text(text: str) -> int | None:
    m = _CEF_DATE.match(text)
    try:
        if m is not None:
            month = _MONTHS.get(m.group(1))
            if month is None:
                return None
            moment = datetime(
                int(m.group(3)), month, int(m.group(2)), int(m.group(4)), int(m.group(5)),
                int(m.group(6)), int((m.group(7) or "0").ljust(3, "0")) * 1000, UTC,
            )  # fmt: skip
            return epoch_ms(moment)
        if len(text) < 10 or not text[:4].isdigit():
            return None
        return epoch_ms(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None


# --- message patterns ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessagePattern:
    """A recognisable log message: ``needles`` (one must occur in the lower-cased text, a
    cheap pre-filter) then ``regex`` whose named groups ``user``, ``target``, ``ip``,
    ``equipment``, ``group`` fill the event."""

    name: str
    needles: tuple[str, ...]
    regex: re.Pattern[str]
    class_uid: int
    activity_id: int
    status_id: int
    record_type: str | None = None


def _p(
    name: str,
    needles: tuple[str, ...],
    regex: str,
    class_uid: int,
    activity_id: int,
    status_id: int = STATUS_UNKNOWN,
    record_type: str | None = None,
) -> MessagePattern:
    return MessagePattern(
        name, needles, re.compile(regex), class_uid, activity_id, status_id, record_type
    )


_IP = r"(?P<ip>[0-9A-Fa-f.:]{3,45})"
# First match wins; keep specific patterns before generic ones. Documented in
# docs/monitoring-formats.md — change both together.
MESSAGE_PATTERNS: Final = (
    _p("sshd_failed", ("failed ",), r"Failed (?:password|publickey|keyboard-interactive\S*|none) "
       rf"for (?:invalid user )?(?P<user>\S+) from {_IP}", AUTHENTICATION, 1, STATUS_FAILURE),
    _p("sshd_invalid_user", ("invalid user",), rf"Invalid user (?P<user>\S*) from {_IP}",
       AUTHENTICATION, 1, STATUS_FAILURE),
    _p("sshd_accepted", ("accepted ",), rf"Accepted \S+ for (?P<user>\S+) from {_IP}",
       AUTHENTICATION, 1, STATUS_SUCCESS),
    _p("pam_auth_failure", ("authentication failure",),
       r"authentication failure;(?:.*?\brhost=(?P<ip>[0-9A-Fa-f.:]*))?(?:.*?\buser=(?P<user>\S+))?",
       AUTHENTICATION, 1, STATUS_FAILURE),
    _p("windows_4625", ("4625",), r"\b4625\b", AUTHENTICATION, 1, STATUS_FAILURE),
    _p("windows_logon_failed", ("failed to log on",), r"(?i)account failed to log on",
       AUTHENTICATION, 1, STATUS_FAILURE),
    _p("windows_4624", ("4624",), r"\b4624\b|successfully logged on", AUTHENTICATION, 1,
       STATUS_SUCCESS),
    _p("windows_4768", ("4768",), r"\b4768\b", AUTHENTICATION, 3, STATUS_UNKNOWN),
    _p("windows_4634", ("4634",), r"\b4634\b", AUTHENTICATION, 2, STATUS_SUCCESS),
    _p("windows_4722", ("4722",), r"\b4722\b", ACCOUNT_CHANGE, 2, STATUS_SUCCESS),
    _p("windows_4725", ("4725",), r"\b4725\b", ACCOUNT_CHANGE, 5, STATUS_SUCCESS),
    _p("windows_4720", ("4720",), r"\b4720\b", ACCOUNT_CHANGE, 1, STATUS_SUCCESS),
    _p("windows_group_add", ("47",), r"\b47(?:28|32|56)\b", ACCOUNT_CHANGE, 7, STATUS_SUCCESS),
    _p("windows_4740", ("4740",), r"\b4740\b", ACCOUNT_CHANGE, 9, STATUS_SUCCESS),
    _p("useradd", ("new user",), r"new user: name=(?P<target>[^,\s]+)", ACCOUNT_CHANGE, 1,
       STATUS_SUCCESS),
    _p("group_add", ("to group",),
       r"add '(?P<target>[^']+)' to (?:shadow )?group '(?P<group>[^']+)'", ACCOUNT_CHANGE, 7,
       STATUS_SUCCESS),
    _p("sudo", ("command=",), r"(?P<user>\S+) : .*?\bUSER=(?P<target>\S+) ; COMMAND=",
       PROCESS_ACTIVITY, 1, STATUS_SUCCESS),
    _p("ot_config_change", ("plc", "controller", "scada", "hmi", "rtu", "dcs", "cpu"),
       r"(?i)^(?=.*\b(?:plc|controller|scada|hmi|rtu|dcs|cpu)\b)"
       r"(?=.*\b(?:config(?:uration)?|program|block|logic|firmware|project|recipe)s?\b)"
       r"(?=.*\b(?:download|upload|chang|modif|writ|updat|deploy|load))",
       DEVICE_CONFIG_CHANGE, 1, STATUS_UNKNOWN, "plc_config"),
    _p("login_failed", ("login", "logon", "log on", "sign", "authentication", "password"),
       r"(?i)\b(?:fail(?:ed|ure)?|invalid|denied|rejected|bad)\b.{0,40}?"
       r"\b(?:login|logon|log on|sign-?in|authentication|password)\b"
       r"|\b(?:login|logon|log on|sign-?in|authentication)\b.{0,40}?"
       r"\b(?:fail(?:ed|ure|s)?|denied|invalid|rejected)\b",
       AUTHENTICATION, 1, STATUS_FAILURE),
    _p("login_success", ("login", "logon", "logged", "sign", "session opened"),
       r"(?i)\b(?:login|logon|logged (?:on|in)|sign-?in)\b.{0,40}?\bsuccess"
       r"|\bsuccessful(?:ly)? (?:login|logon|log(?:ged)? ?(?:on|in)|sign-?in)\b"
       r"|\bsession opened for user (?P<user>\S+)",
       AUTHENTICATION, 1, STATUS_SUCCESS),
    _p("logon", ("log", "sign"), r"(?i)\b(?:logon|login|log ?in|logged (?:on|in)|sign-?in)\b",
       AUTHENTICATION, 1, STATUS_UNKNOWN),
    _p("logoff", ("log", "sign"),
       r"(?i)\b(?:logoff|logout|log ?out|logged (?:off|out)|sign-?out)\b",
       AUTHENTICATION, 2, STATUS_UNKNOWN),
)  # fmt: skip

# Secondary extractors, applied when the matching pattern did not capture the field.
_USER_EXTRACTORS: Final = (
    re.compile(r"Account Name:\s*(?P<user>[^\s-][^\s]*)\s*(?:Account Domain|$)"),
    re.compile(r"(?i)\b(?:user(?:name)?|usr|account)[=:]\s*'?(?P<user>[\w.@\\-]+)"),
    re.compile(r"(?i)\bby (?:user |engineer |operator )?'?(?P<user>[A-Za-z][\w.@\\-]*)"),
)
_IP_EXTRACTORS: Final = (
    re.compile(r"Source Network Address:\s*(?P<ip>[0-9A-Fa-f.:]{3,45})"),
    re.compile(r"\bfrom (?:host )?(?P<ip>\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:]+)\b"),
)
_EQUIPMENT_EXTRACTOR: Final = re.compile(
    r"(?i)\b(?:equipment|device|controller)[=:]\s*(?P<equipment>[\w.-]+)"
    r"|\b(?P<tag>(?:PLC|HMI|RTU|DCS)[-_][\w.-]+)"
)
_KV = re.compile(r'(?:^|(?<=\s))([A-Za-z_][\w.]{0,63})=("(?:[^"\\]|\\.)*"|[^\s"]*)')


@dataclass(frozen=True, slots=True)
class Classification:
    class_uid: int
    activity_id: int
    status_id: int
    record_type: str | None
    fields: dict[str, str]
    pattern: str


def classify_message(text: str) -> Classification | None:
    """The first of ``MESSAGE_PATTERNS`` that matches ``text``, with captured fields."""
    if not text:
        return None
    return _classify(text)


@lru_cache(maxsize=8192)  # plant logs repeat their messages; the result is never mutated
def _classify(text: str) -> Classification | None:
    lower = text.lower()
    for pattern in MESSAGE_PATTERNS:
        for needle in pattern.needles:
            if needle in lower:
                break
        else:
            continue
        m = pattern.regex.search(text)
        if m is None:
            continue
        fields = {k: v for k, v in m.groupdict().items() if v}
        if "user" not in fields and "target" not in fields:
            for extractor in _USER_EXTRACTORS:
                u = extractor.search(text)
                if u is not None:
                    fields["user"] = u.group("user")
                    break
        if "ip" not in fields:
            for extractor in _IP_EXTRACTORS:
                i = extractor.search(text)
                if i is not None:
                    fields["ip"] = i.group("ip")
                    break
        if pattern.class_uid == DEVICE_CONFIG_CHANGE:
            e = _EQUIPMENT_EXTRACTOR.search(text)
            if e is not None:
                fields["equipment"] = e.group("equipment") or e.group("tag")
        return Classification(
            pattern.class_uid,
            pattern.activity_id,
            pattern.status_id,
            pattern.record_type,
            fields,
            pattern.name,
        )
    return None


def key_values(text: str) -> dict[str, str]:
    """``key=value`` and ``key="quoted value"`` pairs in free text (3164 messages)."""
    pairs: dict[str, str] = {}
    if "=" not in text:
        return pairs
    for m in _KV.finditer(text):
        value = m.group(2)
        if value.startswith('"') and len(value) >= 2:
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        pairs[m.group(1)] = value
    return pairs


# --- application actions (``record.update``, ``config.download`` …) -----------------------

_VERBS: Final = {
    "create": 1, "add": 1, "new": 1, "insert": 1, "enter": 1, "acquire": 1, "register": 1,
    "login": 1,  # a LIMS "sample login" registers a sample
    "read": 2, "view": 2, "open": 2, "print": 2,
    "update": 3, "edit": 3, "modify": 3, "change": 3, "approve": 3, "sign": 3,
    "close": 3, "submit": 3, "release": 3, "review": 3, "reject": 3, "reopen": 3,
    "esign": 3, "correct": 3, "execute": 3, "process": 3, "complete": 3, "verify": 3,
    "delete": 4, "remove": 4, "purge": 4, "destroy": 4,
}  # fmt: skip
_CONFIG_WORDS: Final = frozenset(
    {"config", "configuration", "program", "logic", "firmware", "project", "recipe", "setpoint"}
)
_AUTH_ENTITIES: Final = frozenset({None, "auth", "user", "account", "session", "sso", "web", "api"})
_ACTION_SPLIT = re.compile(r"[.:/\s]+")


@lru_cache(maxsize=4096)  # applications repeat a small vocabulary of actions
def classify_action(action: str) -> tuple[int, int, str | None] | None:
    """(class_uid, activity_id, record_type) for an application action such as
    ``batch_record.update``, ``audit_trail.export``, ``plc.config.download`` or ``login``."""
    parts = [p for p in _ACTION_SPLIT.split(action.lower()) if p]
    if not parts:
        return None
    verb = parts[-1]
    entity = parts[-2] if len(parts) > 1 else None
    if (verb in ("login", "logon", "signin", "authenticate") and entity in _AUTH_ENTITIES) or (
        entity in ("login", "logon") and verb in ("failure", "failed", "success")
    ):
        return AUTHENTICATION, 1, None
    if verb in ("logout", "logoff", "signout") and entity in _AUTH_ENTITIES:
        return AUTHENTICATION, 2, None
    if _CONFIG_WORDS.intersection(parts) and verb in (
        "download", "upload", "write", "change", "update", "modify", "deploy", "load",
    ):  # fmt: skip
        return DEVICE_CONFIG_CHANGE, 1, "plc_config"
    if verb in ("export", "download"):
        return WEB_RESOURCES_ACTIVITY, 7, entity
    if verb == "import":
        return WEB_RESOURCES_ACTIVITY, 6, entity
    activity = _VERBS.get(verb)
    if activity is not None:
        return API_ACTIVITY, activity, entity
    return None


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


# --- per format ----------------------------------------------------------------------------


def normalize(
    parsed: SyslogMessage | CefEvent | LeefEvent | Mapping[str, Any],
    *,
    source: SourceInfo,
    received_at: datetime | None = None,
    received_ms: int | None = None,
) -> dict[str, Any]:
    """The OCSF dict for one parsed event. ``received_at`` (or ``received_ms``, the same
    in epoch milliseconds, cheaper for a batch) stands in for a missing event time. A JSON
    object that claims to be OCSF but is not well-formed raises ``ParseError("invalid_ocsf")``."""
    if received_ms is not None:
        fallback_ms = received_ms
    else:
        fallback_ms = epoch_ms(received_at if received_at is not None else datetime.now(UTC))
    if isinstance(parsed, CefEvent):
        return _from_cef(parsed, source, fallback_ms)
    if isinstance(parsed, LeefEvent):
        return _from_leef(parsed, source, fallback_ms)
    if isinstance(parsed, SyslogMessage):
        return _from_syslog(parsed, source, fallback_ms)
    if isinstance(parsed, Mapping):
        if "class_uid" in parsed:
            return _from_ocsf(parsed, source, fallback_ms)
        if "kind" in parsed:
            return _from_qms(parsed, source, fallback_ms)
        return _from_json(parsed, source, fallback_ms)
    raise TypeError(f"cannot normalize {type(parsed).__name__}")


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
    "trail.review.discrepancy": (DETECTION_FINDING, 1, STATUS_FAILURE),
    "trail.key.rotated": (API_ACTIVITY, 3, STATUS_SUCCESS),
    "access.denied": (API_ACTIVITY, 99, STATUS_FAILURE),
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
