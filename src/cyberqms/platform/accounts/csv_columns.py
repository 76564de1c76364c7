"""The columns of the administration and security-oversight lists as CSV
(core.csv_export): what the pages show, in words."""

from __future__ import annotations

from collections.abc import Set

from cyberqms.platform.core.csv_export import CsvColumn
from cyberqms.platform.core.models import AccessDecision, SecurityEvent

from .models import Integration, Site, User


def _roles(user: User) -> str:
    """The roles held now (the list's `current_roles` prefetch), with their site."""
    return "; ".join(
        f"{a.get_role_display()} · {a.site.code}" if a.site else a.get_role_display()
        for a in getattr(user, "current_roles", ())
    )


def user_columns(locked: Set[str]) -> tuple[CsvColumn, ...]:
    """The user list's columns; `locked` are the lower-cased user IDs locked out now."""

    def status(user: User) -> str:
        if not user.is_active:
            return "Deactivated"
        return "Locked" if user.username.lower() in locked else "Active"

    return (
        CsvColumn("User ID", lambda u: u.username),
        CsvColumn("Name", lambda u: u.full_name),
        CsvColumn("Title", lambda u: u.title),
        CsvColumn("Generic account", lambda u: u.kind == "generic"),
        CsvColumn("Site", lambda u: u.site.code if u.site else ""),
        CsvColumn("Roles", _roles),
        CsvColumn("Status", status),
        CsvColumn("Last sign-in", lambda u: u.last_login),
    )


def _tokens(integration: Integration) -> str:
    return "; ".join(f"{t.prefix} {t.status}" for t in integration.tokens.all())


INTEGRATION_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("Name", lambda i: i.name),
    CsvColumn("Kind", lambda i: i.get_kind_display()),
    CsvColumn("System", lambda i: i.system),
    CsvColumn("Site", lambda i: i.site.code if i.site else ""),
    CsvColumn("Allowed from", lambda i: ", ".join(i.allowed_addresses) or "any"),
    CsvColumn("Active", lambda i: i.is_active),
    CsvColumn("Tokens", _tokens),
)


def _departments(site: Site) -> str:
    return ", ".join(d.code for d in site.departments.all())


SITE_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("Code", lambda s: s.code),
    CsvColumn("Name", lambda s: s.name),
    CsvColumn("Country", lambda s: s.country),
    CsvColumn("Time zone", lambda s: s.time_zone),
    CsvColumn("Active", lambda s: s.is_active),
    CsvColumn("Departments", _departments),
)


def _repeats(event: SecurityEvent) -> object:
    count = event.data.get("count") if isinstance(event.data, dict) else None
    return count if isinstance(count, int) else 1


SECURITY_EVENT_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("Time", lambda e: e.created_at),
    CsvColumn("Severity", lambda e: e.get_severity_display()),
    CsvColumn("Event", lambda e: e.kind),
    CsvColumn("User", lambda e: e.username),
    CsvColumn("Source address", lambda e: e.source_ip),
    CsvColumn("Channel", lambda e: e.channel),
    CsvColumn("Message", lambda e: e.message),
    CsvColumn("Occurrences", _repeats),
)


def _verdict(decision: AccessDecision) -> str:
    return "Allowed" if decision.allowed else "Denied"


ACCESS_DECISION_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("Time", lambda d: d.created_at),
    CsvColumn("Verdict", _verdict),
    CsvColumn("Actor", lambda d: d.actor_username or "anonymous"),
    CsvColumn("Action", lambda d: d.action),
    CsvColumn("Resource type", lambda d: d.resource_type),
    CsvColumn("Resource ID", lambda d: d.resource_id),
    CsvColumn("Reason", lambda d: d.reason),
    CsvColumn("Channel", lambda d: d.channel),
    CsvColumn("Source address", lambda d: d.source_ip),
    CsvColumn("Token", lambda d: d.token_id),
)
