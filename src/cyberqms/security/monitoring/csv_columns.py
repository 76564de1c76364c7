"""The columns of the monitoring lists as CSV (core.csv_export): what the pages show, in
words."""

from __future__ import annotations

from cyberqms.platform.core.csv_export import CsvColumn
from cyberqms.security.detect import ocsf

from .models import RawEvent


def _printed(person: object) -> str:
    return str(getattr(person, "printed_name", "") or "")


def _class_name(event: RawEvent) -> str:
    return ocsf.CLASSES.get(event.class_uid or -1, ("", {}))[0]


ALERT_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("Number", lambda a: a.number),
    CsvColumn("Level", lambda a: a.level),
    CsvColumn("Alert", lambda a: a.title),
    CsvColumn("Key", lambda a: a.group_key),
    CsvColumn("State", lambda a: a.get_state_display()),
    CsvColumn("Site", lambda a: a.site.code if a.site else ""),
    CsvColumn("Source", lambda a: a.source.name if a.source else ""),
    CsvColumn("Assigned to", lambda a: _printed(a.assignee)),
    CsvColumn("Events", lambda a: a.count),
    CsvColumn("First seen", lambda a: a.first_seen),
    CsvColumn("Last seen", lambda a: a.last_seen),
    CsvColumn("Rule", lambda a: a.rule_id),
)

EVENT_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("Received", lambda e: e.received_at),
    CsvColumn("Channel", lambda e: e.channel),
    CsvColumn("Source", lambda e: e.source.name),
    CsvColumn("Status", lambda e: e.get_status_display()),
    CsvColumn("Event time", lambda e: e.event_time),
    CsvColumn("Class", lambda e: e.class_uid),
    CsvColumn("Class name", _class_name),
    CsvColumn("Actor", lambda e: e.actor),
    CsvColumn("Source address", lambda e: e.src_ip),
    CsvColumn("SHA-256", lambda e: e.sha256),
    CsvColumn("Size (bytes)", lambda e: e.size),
    CsvColumn("Quarantine reason", lambda e: e.reason),
    CsvColumn("Detail", lambda e: e.detail),
)
