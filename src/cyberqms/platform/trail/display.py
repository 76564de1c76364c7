"""How an audit entry reads on a page: always from its hashed body, never from the columns.

The filter columns of `AuditEntry` are copies made for indexing; if someone altered them
outside the application, a page built from them would show the forgery. Everything here
reads `AuditEntry.data`, the canonical JSON whose hash the checkpoints sign.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Field, Model
from django.utils import timezone
from django.utils.text import capfirst

from cyberqms.platform.trail.log import head
from cyberqms.platform.trail.mac import Verdict, leaf_of, mac_keys
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.platform.trail.registry import REDACTED_PREFIX, by_type, is_audited

EMPTY = "—"
REDACTED = "(changed)"


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str
    redacted: bool


@dataclass(frozen=True)
class EntryRow:
    seq: int
    at: datetime | None
    at_local: datetime | None
    actor_name: str
    actor_username: str
    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    object_label: str
    reason: str
    changes: list[Change]
    created: bool  # no field had a value before: show the values, not "— → value"
    signature: str
    channel: str
    source: str
    correlation: str
    has_history: bool
    altered: bool
    verified: bool = True  # False: shown without its content, see `unverified_seqs`


def viewer_zone(user: Any) -> tzinfo:
    """The local time zone of the person looking: their own (`User.time_zone`), else the
    one in force (the installation's)."""
    name = getattr(user, "time_zone", "")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_current_timezone()


def parse_at(text: Any) -> datetime | None:
    """The entry's UTC timestamp (``2025-01-31T09:15:00.123456Z``) as an aware datetime."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def show_value(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and _ISO_UTC.match(value):
        # 2026-11-22T02:21:36.605011Z → 2026-11-22 02:21:36 UTC (the body keeps the full value)
        return f"{value[:10]} {value[11:19]} UTC"
    return str(value)


_ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def is_redacted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(REDACTED_PREFIX)


# Fields that name a person by id: shown with the person's printed name.
PERSON_FIELDS = ("_by_id", "owner_id", "originator_id", "author_id", "signer_id", "user_id")
NOISE = frozenset({"updated_at"})  # changes with every save; the entry's time says it


def changes_of(data: dict[str, Any]) -> list[Change]:
    raw = data.get("changes") or {}
    if len(raw) > 1:
        raw = {k: v for k, v in raw.items() if k not in NOISE}
    out = []
    for name, pair in raw.items():
        old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        redacted = is_redacted(old) or is_redacted(new)
        out.append(Change(
            field=str(name),
            old=REDACTED if redacted else show_value(old),
            new=REDACTED if redacted else show_value(new),
            redacted=redacted,
        ))
    return out


def entry_row(entry: AuditEntry, zone: tzinfo, altered: bool = False) -> EntryRow:
    data = entry.data
    actor = data.get("actor") or {}
    subject = data.get("object") or {}
    context = data.get("context") or {}
    at = parse_at(data.get("at"))
    object_type = str(subject.get("type") or "")
    actor_id = actor.get("id")
    raw_changes = data.get("changes") or {}
    created = bool(raw_changes) and all(
        isinstance(pair, list) and pair and pair[0] is None for pair in raw_changes.values()
    )
    return EntryRow(
        seq=int(data.get("seq") or entry.seq),
        at=at,
        at_local=at.astimezone(zone) if at is not None else None,
        actor_name=str(actor.get("name") or ""),
        actor_username=str(actor.get("username") or ""),
        actor_id=actor_id if isinstance(actor_id, int) else None,
        action=str(data.get("action") or ""),
        object_type=object_type,
        object_id=str(subject.get("id") or ""),
        object_label=str(subject.get("label") or ""),
        reason=str(data.get("reason") or ""),
        changes=changes_of(data),
        created=created,
        signature=str(data.get("signature") or ""),
        channel=str(context.get("channel") or ""),
        source=str(context.get("source") or ""),
        correlation=str(data.get("correlation") or ""),
        has_history=is_audited(object_type),
        altered=altered,
    )


class Voucher:
    """Says which entries cyberqms vouches for: pages, exports and the API never show the
    content of the others.

    An entry is vouched for when its sequence number is 1 or more and its authenticator
    (trail/mac.py) matches its body as it is now; entries from before authenticators
    existed, when a signed checkpoint covers them. So an entry appended in SQL, or edited
    after it was written, is never displayed as if the application had recorded it.
    """

    def __init__(self) -> None:
        self.keys = mac_keys()
        self._sealed: int | None = None

    def vouches(self, entry: AuditEntry) -> bool:
        if entry.seq < 1:
            return False
        verdict = self.keys.verdict(leaf_of(entry.body), entry.mac)
        if verdict is Verdict.MISSING:
            if self._sealed is None:
                self._sealed = head().size
            return entry.seq <= self._sealed
        return verdict is Verdict.VALID


def unverified_seqs(entries: Iterable[AuditEntry]) -> set[int]:
    """The entries among `entries` that cyberqms does not vouch for (see `Voucher`)."""
    voucher = Voucher()
    return {entry.seq for entry in entries if not voucher.vouches(entry)}


def hidden_row(entry: AuditEntry, altered: bool = False) -> EntryRow:
    """What a page shows for an entry that did not verify: its number, nothing it claims."""
    return EntryRow(
        seq=entry.seq, at=None, at_local=None, actor_name="", actor_username="",
        actor_id=None, action="", object_type="", object_id="", object_label="", reason="",
        changes=[], created=False, signature="", channel="", source="", correlation="",
        has_history=False, altered=altered, verified=False,
    )


def entry_rows(entries: Any, zone: tzinfo, altered: set[int] | None = None) -> list[EntryRow]:
    altered = altered or set()
    entries = list(entries)
    hidden = unverified_seqs(entries)
    rows = [
        hidden_row(e, e.seq in altered) if e.seq in hidden else entry_row(e, zone, e.seq in altered)
        for e in entries
    ]
    _name_people(rows)
    _describe_creations(rows, entries)
    return rows


def _name_people(rows: list[EntryRow]) -> None:
    """Show `owner_id: 3 → 5` as `owner: Ana Silva → Jonas Weber` (one query per page)."""
    from django.contrib.auth import get_user_model

    wanted: set[int] = set()
    for row in rows:
        for c in row.changes:
            if c.field.endswith(PERSON_FIELDS) and not c.redacted:
                wanted.update(int(v) for v in (c.old, c.new) if v.isdigit())
    if not wanted:
        return
    names = {
        pk: (full_name or username)
        for pk, full_name, username in get_user_model()._default_manager.filter(
            pk__in=wanted
        ).values_list("pk", "full_name", "username")
    }
    for row in rows:
        for i, c in enumerate(row.changes):
            if c.field.endswith(PERSON_FIELDS) and not c.redacted:
                row.changes[i] = Change(
                    field=c.field.removesuffix("_id"),
                    old=names.get(int(c.old), c.old) if c.old.isdigit() else c.old,
                    new=names.get(int(c.new), c.new) if c.new.isdigit() else c.new,
                    redacted=False,
                )


def _describe_creations(rows: list[EntryRow], entries: list[AuditEntry]) -> None:
    """A creation lists the values the record started with in words (`changes_in_words`:
    labels, decoded values, empty fields left out), not its raw columns; its row id says
    nothing to a reader (the record's label names it) and is left out too."""
    created = {row.seq for row in rows if row.created}
    if not created:
        return
    worded = changes_in_words([e for e in entries if e.seq in created])
    for row in rows:
        if row.seq in worded:
            model = _audited_model(row.object_type)
            row_id = field_label(row.object_type, model._meta.pk.attname) if model else None
            row.changes[:] = [c for c in worded[row.seq] if c.field != row_id]


# --- changes in words: field labels and decoded values ------------------------------------


def field_label(object_type: str, key: str, labels: Mapping[str, str] | None = None) -> str:
    """A change's key as a person reads it: ``gxp_impact`` → "GxP impact", ``owner_id`` →
    "Owner". `labels` (by field name, a record family's own) win over the model's verbose
    name, which keeps its capitals ("GxP", "CAPA"); a key the model no longer has reads as
    its words."""
    model = _audited_model(object_type)
    found = _fields_by_key(model).get(key) if model is not None else None
    name = found.name if found is not None else key.removesuffix("_id")
    if labels and name in labels:
        return str(labels[name])
    verbose = found.verbose_name if found is not None else name.replace("_", " ")
    return str(capfirst(str(verbose)))


# Keys that point at rows by id: the entry names its object, and the record a shared part
# (comment, attachment, link) belongs to is named by the label kept beside the id.
ROW_REFERENCES = frozenset({"record_type", "record_id", "from_type", "from_id", "to_type",
                            "to_id"})

# By object type, then field name: words the model's own field does not carry (a record's
# state, whose words are its family's), as {field: {value: words}}.
ValueWords = Mapping[str, Mapping[str, Mapping[Any, str]]]


def entry_rows_in_words(
    entries: Iterable[AuditEntry],
    zone: tzinfo,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    *,
    values: ValueWords | None = None,
    altered: set[int] | None = None,
) -> list[EntryRow]:
    """`entry_rows` with each change in words (`changes_in_words`); `labels` are field
    labels by object type (a record family's own)."""
    altered = altered or set()
    entries = list(entries)
    hidden = unverified_seqs(entries)
    worded = changes_in_words([e for e in entries if e.seq not in hidden], labels,
                              values=values)
    return [
        hidden_row(e, e.seq in altered) if e.seq in hidden
        else replace(entry_row(e, zone, e.seq in altered), changes=worded[e.seq])
        for e in entries
    ]


def changes_in_words(
    entries: Iterable[AuditEntry],
    labels: Mapping[str, Mapping[str, str]] | None = None,
    *,
    values: ValueWords | None = None,
) -> dict[int, list[Change]]:
    """Each entry's changes (by sequence number) as a person reads them, from its hashed
    body: the field's label (`field_label`), choices by their label (or by `values`),
    yes/no, people by printed name, other related records by name, moments in UTC. Row
    ids are left out (the object's own, `ROW_REFERENCES`); a creation lists the values it
    set (empty fields are left out). Related names are read with one query per related
    model, whatever the number of entries."""
    pending: list[tuple[int, list[tuple[str, Field[Any, Any] | None, Any, Any,
                                        Mapping[Any, str]]], bool]] = []
    wanted: dict[type[Model], set[Any]] = {}
    for entry in entries:
        data = entry.data
        object_type = str((data.get("object") or {}).get("type") or "")
        model = _audited_model(object_type)
        fields = _fields_by_key(model) if model is not None else {}
        words = (values or {}).get(object_type) or {}
        raw = data.get("changes") or {}
        if len(raw) > 1:
            raw = {k: v for k, v in raw.items() if k not in NOISE}
        pairs = []
        for key, pair in raw.items():
            old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
            found = fields.get(str(key))
            if key in ROW_REFERENCES or (found is not None and found.primary_key):
                continue
            related = _target_model(found)
            if related is not None:
                wanted.setdefault(related, set()).update(
                    v for v in (old, new) if v is not None and not is_redacted(v))
            label = field_label(object_type, str(key), (labels or {}).get(object_type))
            own = words.get(found.name if found is not None else str(key)) or {}
            pairs.append((label, found, old, new, own))
        created = bool(raw) and all(
            isinstance(pair, list) and pair and pair[0] is None for pair in raw.values())
        pending.append((int(data.get("seq") or entry.seq), pairs, created))
    names = {model: _named_rows(model, ids) for model, ids in wanted.items() if ids}
    out: dict[int, list[Change]] = {}
    for seq, pairs, created in pending:
        changes = []
        for label, found, old, new, own in pairs:
            if created and (new is None or new == ""):
                continue
            redacted = is_redacted(old) or is_redacted(new)
            changes.append(Change(
                field=label,
                old=REDACTED if redacted else _value_in_words(found, old, names, own),
                new=REDACTED if redacted else _value_in_words(found, new, names, own),
                redacted=redacted,
            ))
        out[seq] = changes
    return out


def _audited_model(object_type: str) -> type[Model] | None:
    try:
        return by_type(object_type).model
    except LookupError:
        return None


@functools.cache
def _fields_by_key(model: type[Model]) -> dict[str, Field[Any, Any]]:
    """A model's concrete fields by the keys a change may use: attname and name."""
    out: dict[str, Field[Any, Any]] = {}
    for f in model._meta.concrete_fields:
        out[f.name] = f
        out[f.attname] = f
    return out


def _target_model(found: Field[Any, Any] | None) -> type[Model] | None:
    if found is None or not found.is_relation or not (found.many_to_one or found.one_to_one):
        return None
    related = found.related_model
    return related if isinstance(related, type) else None


def _named_rows(model: type[Model], keys: set[Any]) -> dict[Any, str]:
    """How the rows `keys` of `model` are named: people by printed name, others by their
    own `str` (one query, their required foreign keys joined for it)."""
    from django.contrib.auth import get_user_model

    if issubclass(model, get_user_model()):
        people = model._default_manager.filter(pk__in=keys).values_list(
            "pk", "full_name", "username")
        return {pk: str(full_name or username) for pk, full_name, username in people}
    joined = [f.name for f in model._meta.concrete_fields
              if f.is_relation and f.many_to_one and not f.null]
    rows = model._default_manager.all()
    found = (rows.select_related(*joined) if joined else rows).in_bulk(list(keys))
    return {pk: str(obj) for pk, obj in found.items()}


def _value_in_words(
    found: Field[Any, Any] | None, value: Any, names: dict[type[Model], dict[Any, str]],
    own: Mapping[Any, str],
) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, (str, int)) and value in own:
        return str(own[value])
    related = _target_model(found)
    if related is not None:
        return names.get(related, {}).get(value, show_value(value))
    if found is not None and found.choices:
        return str(dict(found.flatchoices).get(value, show_value(value)))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return show_value(value)
