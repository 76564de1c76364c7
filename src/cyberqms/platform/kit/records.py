"""What every quality record shares: its fields, its number, its kind.

A record family (deviations, CAPA, change control …) subclasses `QualityRecord` and
registers one `RecordKind` in its `AppConfig.ready`. The kind tells core everything it
needs to serve the shared parts (attachments, comments, links, due-date extensions,
logical deletion, signatures, PDF and JSON exports, the generic transition pages and API)
without knowing the family: the model, its workflow, its number prefix, and the names of
its access-gate actions, all derived from one prefix::

    register_kind(RecordKind(
        slug="deviations", model=Deviation, workflow=DEVIATION_WORKFLOW, prefix="DEV",
        label="Deviation", action_prefix="deviations", closed_states=("closed",),
        detail_url_name="deviations:detail",
    ))

Actions a family declares: ``<p>.view``, ``<p>.create``, ``<p>.edit`` (draft fields,
attachments, links, extension requests), ``<p>.comment``, ``<p>.delete`` (logical, with a
reason), ``<p>.extension.approve``, plus one per transition permission.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, models
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.core.models import KeptForever, NumberSequence

if TYPE_CHECKING:
    from .workflow import Workflow


class QualityRecord(KeptForever):
    """The common fields of every quality record; never deleted (KeptForever)."""

    number = models.CharField(max_length=32, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=10000, blank=True)
    # Site and owner are indexed with the list order (Meta.indexes), not on their own.
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+",
                             db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name="owner", db_index=False,
    )
    originator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name="originator",
    )
    state = models.CharField(max_length=30)
    due_date = models.DateField(null=True, blank=True)
    event_at = models.DateTimeField(
        null=True, blank=True, help_text="When it happened (or was discovered)."
    )
    late_entry = models.BooleanField(default=False)
    late_entry_reason = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    deleted_reason = models.TextField(max_length=2000, blank=True)

    # The family's state enum (TextChoices), for labels: `Deviation.STATES = DeviationState`.
    STATES: ClassVar[type[models.TextChoices] | None] = None

    class Meta:
        abstract = True
        # What every family's list sorts and filters by, each with the default order
        # (newest first) so that a page reads its rows from one index: the order itself,
        # a state, a site, an owner ("mine"); and the due date (its sort, the overdue
        # filter). The list's counts (all, and by state) read from an index alone, with
        # `is_deleted` in it: the site's, the state's, and the site and state together.
        # A family's Meta subclasses this one and adds the indexes of its own filters
        # (`filter_index`) to these (`*QualityRecord.Meta.indexes`).
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="%(class)s_created"),
            models.Index(fields=["state", "-created_at", "-id", "is_deleted"],
                         name="%(class)s_state_created"),
            models.Index(fields=["site", "-created_at", "-id", "is_deleted"],
                         name="%(class)s_site_created"),
            models.Index(fields=["site", "state", "is_deleted"], name="%(class)s_site_state"),
            models.Index(fields=["owner", "-created_at", "-id"], name="%(class)s_owner_created"),
            models.Index(fields=["due_date", "id"], name="%(class)s_due"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_state_display(self) -> str:
        states = type(self).STATES
        if states is not None and self.state in states.values:
            return str(states(self.state).label)
        return self.state.replace("_", " ").capitalize()

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}"[:200]

    def is_overdue(self, today: dt.date | None = None) -> bool:
        kind = kind_of(self)
        if self.due_date is None or self.is_deleted or self.state in kind.closed_states:
            return False
        return self.due_date < (today or timezone.localdate())


def filter_index(field: str, name: str) -> models.Index:
    """The index of a family's own list filter `field`, with the list's default order: the
    filtered page and its count read from it, however many records there are."""
    return models.Index(fields=[field, "-created_at", "-id"], name=name)


@dataclass(frozen=True)
class Column:
    """A list column: a model field (or attribute) `name` shown under a heading, sortable
    when `sort` names the ordering key the family's FilterSet accepts."""

    name: str
    heading: str
    sort: str = ""


@dataclass(frozen=True)
class FormGroup:
    """A titled group of a record form's fields ("Risk"), with a sentence that explains
    how to fill it in; the create and edit forms show the groups in order."""

    heading: str
    fields: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordKind:
    """The declaration of a record family.

    The first block is what every family declares. A family that also names a `filterset`
    is served by the kit (`kit.family_pages`, `kit.family_api`): its list page (filter,
    sort, paginate, CSV), create and edit pages, detail page, the API list, create, detail
    and update operations, its URLs, API router and navigation entry, and the role grants
    of the standard record vocabulary; see docs/adding-a-record-family.md.
    """

    slug: str  # URL segment and URL namespace: "deviations"
    model: type[QualityRecord]
    workflow: Workflow[Any]
    prefix: str  # number prefix: "DEV"
    label: str  # "Deviation"
    action_prefix: str  # "deviations"
    closed_states: tuple[str, ...]
    detail_url_name: str = ""  # default "<slug>:detail"
    initial_state: str = "draft"
    deletable_states: tuple[str, ...] = ("draft",)

    # --- served by the kit ---------------------------------------------------------------
    plural: str = ""  # "Complaints"
    summary: str = ""  # one sentence under the list page's title
    nav_section: str = ""  # the navigation section it is listed in ("Quality")
    nav_icon: str = "list"
    nav_order: int = 100  # place in its section: smaller first
    filterset: type[Any] | None = None  # a kit.record_filters.RecordFilterSet
    columns: tuple[Column, ...] = ()
    create_fields: tuple[str, ...] = ()  # besides the site
    # Fields each state lets the holder of `<p>.edit` change; absent states change nothing.
    editable: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Fields that need one more action than `<p>.edit` (QA's own words: {"qa_comments":
    # "review"}).
    restricted: Mapping[str, str] = field(default_factory=dict)
    # Detail page sections: (heading, fields); the family's template may replace them.
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # How the create and edit forms group their fields; without it, by `sections`.
    form_groups: tuple[FormGroup, ...] = ()
    detail_template: str = "core/family_detail.html"
    create_template: str = "core/family_create.html"
    # Form labels where the model's verbose name is not what a person should read.
    labels: Mapping[str, str] = field(default_factory=dict)
    # The family's own context for its detail template: (request, record) → dict.
    detail_context: Callable[[Any, Any], dict[str, Any]] | None = None
    # Badges after a list row's title: record → [(css class, text, tooltip)].
    row_badges: Callable[[Any], list[tuple[str, str, str]]] | None = None
    # API: fields the list gives besides number, title, state, site, people, dates and the
    # columns; and extra detail keys (name, type, getter(record, actor)).
    api_list_fields: tuple[str, ...] = ()
    api_extra: tuple[tuple[str, Any, Callable[[Any, Any], Any]], ...] = ()
    # The standard record vocabulary granted to the quality roles (accounts.roles);
    # "" for a family whose roles are declared by hand (incidents).
    grants: str = "quality"
    # The family's own rights: action suffix → roles that hold it ({"verify": ("qa_manager",
    # "qa_reviewer")}); declared to the gate with `own_actions`' texts.
    own_grants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Reactions to the kit's writes: callables (record, actor, changed_fields) run inside
    # the write's transaction (links to other records, derived fields).
    after_write: tuple[Callable[[Any, Any, tuple[str, ...]], None], ...] = ()
    # Checks of the kit's writes that need more than the model: (record, actor, changed)
    # before saving; raise ValidationError naming the field (a date against today, a
    # reference the actor must be able to see).
    checks: tuple[Callable[[Any, Any, tuple[str, ...]], None], ...] = ()
    # The list's queryset, annotated for what its rows show (late children, say).
    list_rows: Callable[[Any], Any] | None = None
    # The family's own pages and API operations besides the kit's: a module with
    # `urlpatterns` (mounted under /<slug>/ in the `<slug>` namespace) and one with `router`.
    own_urls: str = ""
    own_api: str = ""
    # Numbers of the family's own making: called inside the create transaction with the
    # record (its fields set, not saved) and the actor, returns the number;
    # `number_prefixes` are the prefixes those numbers start with (documents:
    # "SOP-QA-0007 v2.0"). Default: `<prefix>-<year>-<n>`. `number_shape` shows them in
    # the generated docs ("TYPE-DEPT-NNNN vX.Y").
    numbering: Callable[[Any, Any], str] | None = None
    number_prefixes: tuple[str, ...] = ()
    number_shape: str = ""
    # The states in which files may be attached or removed; empty: any state not closed.
    # A document's files are its content: fixed once it is sent for review.
    attachment_states: tuple[str, ...] = ()
    # People named for a step: person field → the workflow actions the person named there
    # takes (a document's reviewer reviews). Naming someone runs the assignee checks
    # (training: current on what the step needs) and refuses the field with their sentence.
    assignees: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The record's own tables (`kit.record_rows.Rows`): rows added and withdrawn with a
    # reason, served on the page, in the API and in the copies.
    rows: tuple[Any, ...] = ()
    # Fields that change without a GxP meaning, written without an audit entry and left
    # out of the record's audited state (when a scan last saw a finding).
    unaudited: tuple[str, ...] = ()

    def module(self, name: str) -> Any:
        """The family app's module `name` (its `demo`, say), or None when it has none."""
        import importlib

        from django.apps import apps

        config = apps.get_containing_app_config(self.model.__module__)
        if config is None:
            return None
        try:
            return importlib.import_module(f"{config.name}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.{name}":
                return None
            raise

    @property
    def on_kit(self) -> bool:
        """Whether the kit serves this family's list, create, edit, detail and API."""
        return self.filterset is not None

    @property
    def noun(self) -> str:
        """The label in running text: "deviation", but "CAPA" stays an acronym."""
        return self.label if self.label.isupper() else self.label.lower()

    @property
    def plural_label(self) -> str:
        return self.plural or f"{self.label}s"

    @property
    def type_name(self) -> str:
        return self.workflow.type_name

    @property
    def initial_label(self) -> str:
        """The first state as people read it ("Draft", "Open")."""
        states = self.model.STATES
        if states is not None and self.initial_state in states.values:
            return str(states(self.initial_state).label)
        return self.initial_state.replace("_", " ").capitalize()

    def action(self, name: str) -> str:
        return f"{self.action_prefix}.{name}"

    @property
    def view_action(self) -> str:
        return self.action("view")

    @property
    def edit_action(self) -> str:
        return self.action("edit")

    @property
    def detail_url_pattern(self) -> str:
        return self.detail_url_name or f"{self.slug}:detail"

    def detail_url(self, record: QualityRecord) -> str:
        return reverse(self.detail_url_pattern, args=[record.pk])

    def open_records(self) -> models.QuerySet[Any]:
        return self.model._default_manager.filter(is_deleted=False).exclude(
            state__in=self.closed_states
        )

    def overdue(self, today: dt.date | None = None) -> models.QuerySet[Any]:
        return self.open_records().filter(due_date__lt=today or timezone.localdate())


def site_model() -> Any:
    """The site model, as the record base's own foreign key names it (core imports no
    accounts code)."""
    from django.apps import apps

    related = QualityRecord._meta.get_field("site").related_model
    # An abstract model keeps the lazy reference ("accounts.Site") unresolved.
    return apps.get_model(related) if isinstance(related, str) else related


def model_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The concrete field `name` (or its attname) of `model`; LookupError otherwise."""
    try:
        found = model._meta.get_field(name)
    except Exception:  # FieldDoesNotExist
        raise LookupError(f"{model.__name__} has no field {name!r}") from None
    if not isinstance(found, models.Field) or not found.concrete:
        raise LookupError(f"{model.__name__}.{name} is not a concrete field")
    return found


_KINDS: dict[str, RecordKind] = {}  # by slug


def register_kind(kind: RecordKind) -> RecordKind:
    from cyberqms.platform.core.access import ACTIONS

    existing = _KINDS.get(kind.slug)
    if existing is not None and existing.model is not kind.model:
        raise ValueError(f"record kind {kind.slug!r} registered twice")
    needed = ["view", "create", "edit", "comment", "delete", "extension.approve"]
    missing = [kind.action(n) for n in needed if kind.action(n) not in ACTIONS]
    missing += [t.permission for t in kind.workflow.transitions if t.permission not in ACTIONS]
    if missing:
        raise ValueError(f"{kind.slug}: undeclared actions {sorted(set(missing))}")
    _KINDS[kind.slug] = kind
    return kind


_SYSTEM_FIELDS = frozenset({
    "id", "number", "state", "originator", "site", "late_entry", "created_at", "updated_at",
    "closed_at", "is_deleted", "deleted_at", "deleted_by", "deleted_reason",
})


class StateConstraint(models.CheckConstraint):
    """A check that the state is one of the family's: in SQL exactly Django's
    `CheckConstraint` (its migrations name that class), validated in Python. Django validates
    a check constraint by asking the database, a query on every create and edit
    (issue 14), for what a membership test answers."""

    def validate(self, model: Any, instance: Any, exclude: Any = None,
                 using: str = DEFAULT_DB_ALIAS) -> None:
        if exclude and "state" in exclude:
            return
        children = getattr(self.condition, "children", [])
        if len(children) != 1 or not isinstance(children[0], tuple) or (
                children[0][0] != "state__in"):
            super().validate(model, instance, exclude=exclude, using=using)
            return
        if instance.state not in children[0][1]:
            raise ValidationError(self.get_violation_error_message(),
                                  code=self.violation_error_code)

    def deconstruct(self) -> Any:
        _path, args, kwargs = super().deconstruct()
        return "django.db.models.CheckConstraint", args, kwargs


def state_constraint(states: type[models.TextChoices], name: str) -> models.CheckConstraint:
    """The database refuses a state the family does not have (a write around the
    services, in SQL, is refused too): every family's `Meta.constraints` holds it."""
    return StateConstraint(condition=models.Q(state__in=states.values), name=name)


def register_family(
    kind: RecordKind, *, own_actions: Mapping[str, str] | None = None
) -> RecordKind:
    """Register a family served by the kit, in its AppConfig.ready(): declares the
    standard actions and its own (`own_actions`: suffix → description), registers the
    model with the audit trail and the kind with core. Checks the declaration: the fields
    it names exist and are not the kit's own, and every state it names is a state."""
    from cyberqms.platform.trail.registry import register

    if kind.filterset is None:
        raise ValueError(f"{kind.slug}: a family on the kit declares its filterset")
    named = (*kind.create_fields, *(n for fs in kind.editable.values() for n in fs),
             *kind.restricted, *(c.name for c in kind.columns if c.name != "number"),
             *(n for _h, names in kind.sections for n in names))
    not_names = [n for n in named if model_field(kind.model, n).name != n]
    if not_names:
        raise ValueError(f"{kind.slug}: name fields, not columns: {sorted(set(not_names))}")
    entered = {*kind.create_fields, *(n for fs in kind.editable.values() for n in fs)}
    if entered & _SYSTEM_FIELDS:
        raise ValueError(f"{kind.slug}: kit fields declared editable "
                         f"{sorted(entered & _SYSTEM_FIELDS)}")
    # Dates that the shared parts own once the record is under way: a due date moves by
    # approved extension, the event time is fixed when the record leaves its first state.
    owned = {"due_date", "event_at", "late_entry_reason"}
    late = sorted({n for state, fs in kind.editable.items() if state != kind.initial_state
                   for n in fs} & owned)
    if late:
        raise ValueError(f"{kind.slug}: {late} editable after {kind.initial_state}")
    if set(kind.restricted) & set(kind.create_fields):
        raise ValueError(f"{kind.slug}: restricted fields entered at creation "
                         f"{sorted(set(kind.restricted) & set(kind.create_fields))}")
    unknown_states = set(kind.editable) - set(kind.workflow.states())
    if unknown_states:
        raise ValueError(f"{kind.slug}: unknown states {sorted(unknown_states)}")
    states = kind.model.STATES
    if states is None or not any(
            getattr(c, "condition", None) == models.Q(state__in=states.values)
            for c in kind.model._meta.constraints):
        raise ValueError(f"{kind.slug}: the model declares STATES and, in Meta.constraints, "
                         "state_constraint(STATES)")
    declare_record_actions(kind.action_prefix, kind.noun, dict(own_actions or {}))
    register(kind.model, kind.type_name, view_action=kind.view_action,
             label=lambda r: r.label, detail_url=kind.detail_url, exclude=kind.unaudited)
    if kind.rows:
        from .record_rows import register_rows

        register_rows(kind)
    return register_kind(kind)


def registered_kinds() -> list[RecordKind]:
    """Every family, in the order the apps registered them (the navigation's order)."""
    return list(_KINDS.values())


def all_kinds() -> list[RecordKind]:
    return sorted(_KINDS.values(), key=lambda k: k.slug)


def kind_by_slug(slug: str) -> RecordKind:
    try:
        return _KINDS[slug]
    except KeyError:
        raise LookupError(f"unknown record kind {slug!r}") from None


def kind_by_type(type_name: str) -> RecordKind:
    for kind in _KINDS.values():
        if kind.type_name == type_name:
            return kind
    raise LookupError(f"unknown record type {type_name!r}")


def kind_of(record: models.Model | type[models.Model]) -> RecordKind:
    model = record if isinstance(record, type) else type(record)
    for kind in _KINDS.values():
        if kind.model is model:
            return kind
    raise LookupError(f"{model.__name__} is not a registered record kind")


def stored_number(kind: RecordKind, text: str) -> str | None:
    """`text` (case aside) as `kind` stores its numbers, or None when it is not one of its
    numbers' shape. A version mark is written in lower case ("SOP-QA-0007 v2.0")."""
    number = text.strip().upper()
    prefix = number.split("-", 1)[0]
    if prefix == kind.prefix:
        return number
    if prefix in kind.number_prefixes:
        return number.replace(" V", " v")
    return None


def find_by_number(number: str) -> QualityRecord | None:
    """The record numbered `number` (any kind, case-insensitive), or None."""
    for kind in _KINDS.values():
        wanted = stored_number(kind, number)
        if wanted is not None:
            found: QualityRecord | None = kind.model._default_manager.filter(
                number=wanted
            ).first()
            return found
    return None


# --- numbering -------------------------------------------------------------------------------


def next_number(prefix: str, when: dt.datetime | None = None) -> str:
    """The next human identifier for `prefix` this year: ``DEV-2026-0042``.

    Must run inside the transaction that creates the record: the counter row is locked
    until commit, so two records never share a number and a rolled-back one frees it.
    """
    year = (when or timezone.now()).year
    seq, _ = NumberSequence.objects.select_for_update().get_or_create(prefix=prefix, year=year)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"{prefix}-{year}-{seq.last:04d}"


def running_number(prefix: str) -> str:
    """The next identifier of a register that runs on across years: ``SYS-0042`` (a
    family's `numbering`). Same locking as `next_number`: gap-free, never twice."""
    seq, _ = NumberSequence.objects.select_for_update().get_or_create(prefix=prefix, year=0)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"{prefix}-{seq.last:04d}"


# --- input rules every family shares ------------------------------------------------------


def late_entry_threshold() -> dt.timedelta:
    return dt.timedelta(hours=settings.CYBERQMS_LATE_ENTRY_HOURS)


def check_event_time(
    event_at: dt.datetime | None, late_reason: str, *, now: dt.datetime | None = None
) -> tuple[bool, str]:
    """AL-03: an event recorded more than the configured time after it happened is a late
    entry and needs a reason; an event in the future is refused. Returns (late, reason)."""
    if event_at is None:
        return False, ""
    now = now or timezone.now()
    if event_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"event_at": ["The event cannot be in the future."]})
    late = now - event_at > late_entry_threshold()
    late_reason = (late_reason or "").strip()
    if late and not late_reason:
        hours = settings.CYBERQMS_LATE_ENTRY_HOURS
        raise ValidationError({"late_entry_reason": [
            f"The event is more than {hours} hours old: say why it is recorded late."
        ]})
    return late, late_reason if late else ""


def check_due_date(
    due: dt.date | None, *, start: dt.date | None = None, field: str = "due_date"
) -> None:
    """A due date may not precede the day the work starts (by default, today)."""
    if due is None:
        return
    start = start or timezone.localdate()
    if due < start:
        raise ValidationError({field: [f"The due date cannot be before {start.isoformat()}."]})


def users_named(pks: Iterable[int | None]) -> list[Any]:
    from django.contrib.auth import get_user_model

    wanted = [pk for pk in pks if pk is not None]
    return list(get_user_model()._default_manager.filter(pk__in=wanted, is_active=True))


STANDARD_ACTIONS = {
    "create": "Create {noun}s",
    "edit": "Edit {noun}s, attach files, link records, ask for more time",
    "comment": "Comment on {noun}s",
    "delete": "Withdraw a {noun} entered in error (logical deletion, with a reason)",
    "extension.approve": "Approve or reject due-date extensions of {noun}s",
    "submit": "Submit a {noun}",
    "work": "Carry out the owner's steps of a {noun} (investigate, implement, complete)",
    "review": "Review or assess a {noun} (QA or IT security)",
    "approve": "Approve a {noun} (QA, e-signature)",
    "close": "Close a {noun} (QA, e-signature)",
    "cancel": "Cancel a {noun} (with a reason)",
}


def declare_record_actions(prefix: str, noun: str, extra: dict[str, str] | None = None) -> None:
    """Declare the access-gate actions every record family has, plus its own."""
    from cyberqms.platform.core.access import declare

    declare(f"{prefix}.view", f"See {noun}s", gxp=True, read=True)
    for name, text in {**STANDARD_ACTIONS, **(extra or {})}.items():
        declare(f"{prefix}.{name}", text.format(noun=noun), gxp_write=True)
