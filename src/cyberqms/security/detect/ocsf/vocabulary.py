"""The OCSF vocabulary the normalizers use: the schema version, the class uids with their
category and activity names (``CLASSES``), severities, statuses, the GxP extension's fields,
and the tables that map syslog, cyberqms, CEF/LEEF and free-word severities and outcomes to
OCSF ids (``severity_from_scale``). Data and one pure function, no Django.
"""

from __future__ import annotations

from typing import Final

OCSF_VERSION: Final = "1.3.0"


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
