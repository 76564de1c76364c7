"""Classification of free text and application actions: the log message patterns
(``MESSAGE_PATTERNS``, first match wins) with their secondary user, address and equipment
extractors (``classify_message``), ``key=value`` pairs in free text (``key_values``), and
action names such as ``batch_record.update`` mapped to an OCSF class and activity
(``classify_action``). Pure functions, no Django.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from .vocabulary import (
    ACCOUNT_CHANGE,
    API_ACTIVITY,
    AUTHENTICATION,
    DEVICE_CONFIG_CHANGE,
    PROCESS_ACTIVITY,
    STATUS_FAILURE,
    STATUS_SUCCESS,
    STATUS_UNKNOWN,
    WEB_RESOURCES_ACTIVITY,
)

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
_PORT = r"(?: port (?P<port>\d{1,5})\b)?"  # sshd names the client's source port
# First match wins; keep specific patterns before generic ones. Documented in
# docs/monitoring-formats.md — change both together.
MESSAGE_PATTERNS: Final = (
    _p("sshd_failed", ("failed ",), r"Failed (?:password|publickey|keyboard-interactive\S*|none) "
       rf"for (?:invalid user )?(?P<user>\S+) from {_IP}{_PORT}", AUTHENTICATION, 1,
       STATUS_FAILURE),
    _p("sshd_invalid_user", ("invalid user",),
       rf"Invalid user (?P<user>\S*) from {_IP}{_PORT}", AUTHENTICATION, 1, STATUS_FAILURE),
    _p("sshd_accepted", ("accepted ",), rf"Accepted \S+ for (?P<user>\S+) from {_IP}{_PORT}",
       AUTHENTICATION, 1, STATUS_SUCCESS),
    # rhost is an address or a host name (reverse DNS): `_classify` sorts it out.
    _p("pam_auth_failure", ("authentication failure",),
       r"authentication failure;(?:.*?\brhost=(?P<rhost>\S*))?(?:.*?\buser=(?P<user>\S+))?",
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
        rhost = fields.pop("rhost", None)
        if rhost is not None:
            fields["ip" if _is_address(rhost) else "host"] = rhost
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


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


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
