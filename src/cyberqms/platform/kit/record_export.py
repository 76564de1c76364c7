"""A record as a document: its data, signature manifestations and audit trail, as PDF
(WeasyPrint) and JSON (P11-03 accurate and complete copies, A11-14 printouts).

The document is built once (`record_document`) and rendered twice, so the PDF and the JSON
always say the same thing: fields by their labels with values as people read them, each
marked when it differs from the record's first audit entry (A11-15), and the trail's
changes in words. A family adds its own tables (CAPA actions, change tasks …) with a
`document_sections(self) -> list[Section]` method on its model.

Times are UTC throughout, whoever prints. The PDF's stylesheet is static
(`core/record_pdf.css`), parsed once per thread with its font configuration and reused:
a copy costs only the layout of its own content.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.text import capfirst

import cyberqms
from cyberqms.platform.core.moments import duration_text
from cyberqms.platform.trail.canonical import canonical_json
from cyberqms.platform.trail.display import NOISE, EntryRow, entry_rows_in_words
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.platform.trail.queries import record_history
from cyberqms.platform.trail.record import snapshot

from .record_pages import record_json
from .record_parts import LINK_RELATIONS
from .records import QualityRecord, RecordKind, kind_by_type, kind_of

EMPTY = "—"
# Columns every record has that say nothing about it (its row id, the last save time),
# and the logical deletion's, shown only on a deleted record.
HOUSEKEEPING = frozenset({"id", "updated_at"})
DELETION = frozenset({"is_deleted", "deleted_at", "deleted_by", "deleted_reason"})
# Labels of the shared fields whose verbose name does not read well in a copy; a family's
# own `labels` win.
KIT_LABELS = {"is_deleted": "Deleted", "deleted_reason": "Reason for deletion"}


@dataclass
class Section:
    """A table of child rows for the document (CAPA actions, change tasks …)."""

    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class FieldLine:
    label: str
    value: str
    # Differs from the record's first audit entry (A11-15); None: that entry cannot be
    # trusted (it did not verify), so nobody can say.
    changed: bool | None


@dataclass(frozen=True)
class TrailLine:
    row: EntryRow
    what: str  # the action in words ("Submit to QA", "Comment added")
    about: str  # the shared part or child the entry is about, when not the record itself
    signed: str  # the e-signature the entry carries, in words ("Approved by …")


@dataclass
class RecordDocument:
    record: QualityRecord
    kind_label: str
    state_label: str
    site_label: str
    generated_at: datetime
    generated_by: str
    fields: list[FieldLine]
    # "" when every field could be compared with the first entry; else why not.
    first_entry_note: str
    sections: list[Section]
    common: dict[str, Any]
    trail: list[EntryRow]
    # What the PDF shows of the shared parts: people by name, times in UTC, words.
    signatures: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, str]] = field(default_factory=list)
    trail_lines: list[TrailLine] = field(default_factory=list)

    @property
    def printed_at(self) -> str:
        return utc_text(self.generated_at)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": "cyberqms.record/1",
            "organization": settings.CYBERQMS_ORGANIZATION,
            "generated_at": self.generated_at.isoformat(),
            "generated_by": self.generated_by,
            "application": f"cyberqms {cyberqms.__version__}",
            "record": self.common,
            "fields": [
                {"label": f.label, "value": f.value, "changed_since_first_entry": f.changed}
                for f in self.fields
            ],
            "sections": [
                {"title": s.title, "columns": s.columns, "rows": s.rows} for s in self.sections
            ],
            "audit_trail": [
                {
                    "seq": row.seq,
                    "at": row.at.isoformat() if row.at else None,
                    "actor": row.actor_name,
                    "username": row.actor_username,
                    "action": row.action,
                    "object": row.object_label,
                    "changes": {c.field: [c.old, c.new] for c in row.changes},
                    "reason": row.reason,
                    "signature": row.signature,
                }
                for row in self.trail
            ],
        }
        # A digest of the content lets a reader check two copies are the same document.
        content = {k: v for k, v in body.items() if k not in ("generated_at", "generated_by")}
        body["content_sha256"] = hashlib.sha256(canonical_json(content)).hexdigest()
        return body


def utc_text(moment: datetime, *, seconds: bool = True) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds
                                           else "%Y-%m-%d %H:%M UTC")


def _iso_utc(text: str, *, seconds: bool = False) -> str:
    return utc_text(datetime.fromisoformat(text), seconds=seconds) if text else EMPTY


def record_document(record: QualityRecord, actor: Any) -> RecordDocument:
    kind = kind_of(record)
    sections_of = getattr(kind.model, "document_sections", None)
    sections: list[Section] = list(sections_of(record)) if callable(sections_of) else []
    sections += [_rows_section(record, rows) for rows in kind.rows]
    entries = list(record_history(kind.type_name, str(record.pk)).order_by("seq"))
    states = kind.model.STATES
    trail = entry_rows_in_words(
        entries, UTC, {kind.type_name: {**KIT_LABELS, **kind.labels}},
        values={kind.type_name: {"state": dict(states.choices) if states else {}}})
    common = record_json(record, actor, actions=False)
    people = _people_named(record, common)
    fields, note = _fields(kind, record, people, _first_values(kind, record, entries, trail))
    signatures = [{
        "meaning": s["meaning"], "printed_name": s["printed_name"],
        "username": s["username"], "reason": s["reason"],
        "superseded": s["superseded"], "signed_at": _iso_utc(s["signed_at"], seconds=True),
    } for s in common["signatures"]]
    signed = {str(s["id"]): f"{s['meaning']} by {s['printed_name']}"
              for s in common["signatures"]}
    return RecordDocument(
        record=record,
        kind_label=kind.label,
        state_label=record.get_state_display(),
        site_label=str(record.site),
        generated_at=timezone.now(),
        generated_by=(getattr(actor, "full_name", "") or actor.get_username()),
        fields=fields,
        first_entry_note=note,
        sections=sections,
        common=common,
        trail=trail,
        signatures=signatures,
        links=[{"relation": _relation(link), "label": link["label"],
                "state": _state_label(link["type"], link["state"])}
               for link in common["links"]],
        attachments=[{**a, "uploaded_by": people.get(a["uploaded_by"], a["uploaded_by"]),
                      "uploaded_at": _iso_utc(a["uploaded_at"])}
                     for a in common["attachments"]],
        comments=[{"author": people.get(c["author"], c["author"]), "body": c["body"],
                   "created_at": _iso_utc(c["created_at"])} for c in common["comments"]],
        trail_lines=[TrailLine(row, _action_words(kind, row.action), _about(kind, row),
                               signed.get(row.signature, "")) for row in trail],
    )


def _rows_section(record: QualityRecord, rows: Any) -> Section:
    """A table the family declares (`kit.record_rows`), withdrawn rows marked with who
    withdrew them and why."""
    from .record_rows import cell_text, rows_of

    out = []
    for row in rows_of(record, rows):
        cells = [cell_text(row, name) for name in rows.columns]
        added = f"{row.created_by.printed_name}, {utc_text(row.created_at, seconds=False)}"
        if row.removed_at is not None:
            cells[0] = (f"{cells[0]} (withdrawn {utc_text(row.removed_at, seconds=False)} "
                        f"by {getattr(row.removed_by, 'printed_name', '')}: "
                        f"{row.removed_reason})")
        out.append([*cells, added])
    return Section(rows.heading, [*(rows.label_of(n) for n in rows.columns), "Added"], out)


def _people_named(record: QualityRecord, common: dict[str, Any]) -> dict[Any, str]:
    """Printed names of the record's people (by id) and of the authors of its attachments
    and comments (by username): one query."""
    user_model = get_user_model()
    ids = {getattr(record, f.attname) for f in record._meta.concrete_fields
           if f.is_relation and f.related_model is user_model}
    usernames = {a["uploaded_by"] for a in common["attachments"]} | {
        c["author"] for c in common["comments"]}
    rows = user_model._default_manager.filter(
        Q(pk__in=ids - {None}) | Q(username__in=usernames)
    ).values_list("pk", "username", "full_name")
    out: dict[Any, str] = {}
    for pk, username, full_name in rows:
        out[pk] = out[username] = str(full_name or username)
    return out


def _first_values(
    kind: RecordKind, record: QualityRecord, entries: list[AuditEntry], trail: list[EntryRow]
) -> dict[str, Any] | str:
    """The record's values as its first audit entry recorded them, by snapshot key; or,
    when they cannot be trusted, why not."""
    # Read from the hashed body, not the columns the history was selected by.
    this = {"type": kind.type_name, "id": str(record.pk)}
    first = next((e for e in entries if {k: str((e.data.get("object") or {}).get(k))
                                         for k in this} == this), None)
    verified = {row.seq for row in trail if row.verified}
    if first is None:
        return "The record has no audit entry to compare its values with."
    if first.seq not in verified:
        return ("The record's first audit entry did not verify: whether a value changed "
                "since it was first entered cannot be shown; see the audit trail.")
    changes = first.data.get("changes") or {}
    return {key: pair[1] for key, pair in changes.items()
            if isinstance(pair, list) and len(pair) == 2}


def _fields(
    kind: RecordKind, record: QualityRecord, people: dict[Any, str],
    first: dict[str, Any] | str,
) -> tuple[list[FieldLine], str]:
    """Every meaningful field of the record as (label, value, changed since first entry)."""
    state = snapshot(record)
    hidden = HOUSEKEEPING if record.is_deleted else HOUSEKEEPING | DELETION
    out = []
    for f in record._meta.concrete_fields:
        if f.attname not in state or f.name in hidden:
            continue
        label = (kind.labels.get(f.name) or KIT_LABELS.get(f.name)
                 or str(capfirst(str(f.verbose_name))))
        changed = None if isinstance(first, str) else (
            f.attname in first and f.attname not in NOISE
            and first[f.attname] != state[f.attname])
        out.append(FieldLine(label, _value(record, f, people), changed))
    return out, first if isinstance(first, str) else ""


def _value(record: QualityRecord, f: Any, people: dict[Any, str]) -> str:
    if f.name == "state":
        return record.get_state_display()
    if f.is_relation:
        key = getattr(record, f.attname)
        if key is None:
            return EMPTY
        if f.related_model is get_user_model():
            return people.get(key, EMPTY)
        return str(getattr(record, f.name))
    value: Any = getattr(record, f.attname)
    if value is None or value == "":
        return EMPTY
    if f.choices:
        return str(getattr(record, f"get_{f.name}_display")())
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return duration_text(value)
    return str(value)


# How the trail names the actions on the shared parts (record_parts, signatures) and on
# every record (record_services); a record's transitions are named by its workflow.
SHARED_ACTIONS = {
    "core.attachment.add": "File attached",
    "core.attachment.delete": "File removed",
    "core.comment.add": "Comment added",
    "core.link.add": "Link added",
    "core.link.delete": "Link removed",
    "core.extension.request": "More time requested",
    "core.extension.approve": "More time approved",
    "core.extension.reject": "More time refused",
    "core.signature.create": "Electronic signature",
}
RECORD_ACTIONS = {
    "create": "Created", "edit": "Edited", "update": "Changed", "delete": "Deleted",
    "due_date.extend": "Due date moved",
}
PAST = {"add": "added", "create": "created", "edit": "edited", "update": "changed",
        "delete": "deleted", "remove": "removed", "complete": "completed",
        "cancel": "cancelled", "reopen": "reopened"}


def _action_words(kind: RecordKind, action: str) -> str:
    if action in SHARED_ACTIONS:
        return SHARED_ACTIONS[action]
    own = action.removeprefix(f"{kind.type_name}.")
    if own != action:
        if own in RECORD_ACTIONS:
            return RECORD_ACTIONS[own]
        titles = {t.action: t.title for t in kind.workflow.transitions}
        if own in titles:
            return titles[own]
    # A family's own child (a CAPA action, a change task): "capa.action.add" → "Action
    # added".
    *what, verb = action.split(".", 1)[-1].split(".")
    words = " ".join([*what, PAST.get(verb, verb)]).replace("_", " ")
    return str(capfirst(words))


def _about(kind: RecordKind, row: EntryRow) -> str:
    """What a child entry is about: a family's child by its label (the record's own
    entries and its shared parts, named by the action and their changes, need none)."""
    if row.object_type == kind.type_name or row.object_type.startswith("core."):
        return ""
    return row.object_label


def _relation(link: dict[str, Any]) -> str:
    words = LINK_RELATIONS.get(link["relation"], str(link["relation"]).replace("_", " "))
    return words if link["direction"] == "outgoing" else f"{words} (from)"


def _state_label(type_name: str, state: str) -> str:
    try:
        states = kind_by_type(type_name).model.STATES
    except LookupError:
        states = None
    if states is not None and state in states.values:
        return str(states(state).label)
    return str(state).replace("_", " ").capitalize() or EMPTY


# --- PDF ---------------------------------------------------------------------------------


_local = threading.local()


def _stylesheet(name: str) -> tuple[Any, Any, Any]:
    """The PDF stylesheet `name` (a template path), its font configuration and the URL
    fetcher, made once per thread (WeasyPrint's font configuration wraps fontconfig and
    Pango objects that threads do not share)."""
    sheets: dict[str, tuple[Any, Any, Any]] = getattr(_local, "sheets", None) or {}
    _local.sheets = sheets
    cached = sheets.get(name)
    if cached is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        class NoFetch(URLFetcher):
            """Refuses every URL, and stops the copy: it must not miss a part silently.
            Images inside the document itself (`data:` PNG, JPEG or GIF, which a converted
            DOCX carries) are decoded here, without any network."""

            def fetch(self, url: str, headers: Any = None) -> Any:
                image = _data_image(url)
                if image is None:
                    raise ValueError(f"external resource refused: {url[:80]}")
                return URLFetcherResponse(url[:40], image[1], {"Content-Type": image[0]})

        fonts = FontConfiguration()
        # Made once: WeasyPrint's fetcher builds an SSL context, as costly as a page.
        refuse = NoFetch(fail_on_errors=True)
        # Found as templates are (a family's own templates folder, the project's).
        # (The Django backend's template has an origin; the stubs' protocol omits it.)
        path = cast(Any, get_template(name)).origin.name
        cached = (CSS(filename=str(path), font_config=fonts, url_fetcher=refuse), fonts,
                  refuse)
        sheets[name] = cached
    return cached


_DATA_IMAGE = re.compile(r"data:(image/(?:png|jpeg|gif));base64,([A-Za-z0-9+/=\s]*)\Z",
                         re.DOTALL)


def _data_image(url: str) -> tuple[str, bytes] | None:
    """(content type, bytes) of a `data:` URL holding a PNG, JPEG or GIF; None otherwise."""
    found = _DATA_IMAGE.match(url)
    if found is None:
        return None
    try:
        return found[1], base64.b64decode(found[2])
    except ValueError:
        return None


def html_to_document(html: str, stylesheet: str = "core/record_pdf.css") -> Any:
    """`html` laid out into pages (WeasyPrint's `Document`), to write as PDF or to look at
    where its parts fell; WeasyPrint reads no URL: everything is in the HTML and the
    stylesheet."""
    from weasyprint import HTML

    sheet, fonts, refuse = _stylesheet(stylesheet)
    return HTML(string=html, url_fetcher=refuse).render(stylesheets=[sheet], font_config=fonts)


def html_to_pdf(html: str, stylesheet: str = "core/record_pdf.css") -> bytes:
    """`html` as PDF with the static `stylesheet` (see `html_to_document`)."""
    pdf: bytes = html_to_document(html, stylesheet).write_pdf()
    return pdf


def render_pdf(document: RecordDocument) -> bytes:
    """The document as PDF."""
    digest = document.as_json()["content_sha256"]
    return html_to_pdf(render_to_string("core/record_pdf.html", {
        "doc": document, "record": document.record,
        "organization": settings.CYBERQMS_ORGANIZATION, "digest": digest,
        "version": cyberqms.__version__,
    }))
