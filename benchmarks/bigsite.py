"""Big-site data (issue 14): a year of a large site, written into a migrated database fast.

Grows a cyberqms database to the sizes asked for (totals, not additions: run it again with
larger sizes and it adds the difference), as data the product treats as its own:

* **Setup, through the services** (a few rows): the first administrator, the sites, and one
  event source per plant system (`cyberqms.demo.plant`) registered by an IT-security analyst.
* **People** (`--people`, users in all): accounts with roles at the sites (authors, process
  owners, QA reviewers and managers, IT security, system owners, auditors), each with the
  three entries the product writes for a new starter (created with a one-time password,
  role granted, own password chosen); privileged roles have an authenticator (MFA). All
  share two password hashes.
* **Quality records** (`--records`) of every registered family (deviations, CAPA, changes,
  complaints, incidents), created over the period and walked along their declared workflow
  table, step by step in one global time order: edits, updates with reasons, transitions
  with their e-signatures (signature rows), comments. Whatever a record had not reached by
  the end of the period it has not done: recent records are open, old ones mostly closed.
  Numbers are `DEV-2026-000123`; the numbering counters follow.
* **Audit entries** (`--entries`, the trail's length in all): every row above has the
  entries its service would have written, built with the trail's own code (the entry's
  canonical JSON, its leaf hash, the HMAC authenticator with the installation's key) and
  sealed by the trail's sealer (`trail_seal`, a signed checkpoint per chunk), so
  verification passes, reconciliation included. The records take the entries left after
  setup and people, an equal share each: a history longer than its share loses its
  comments, edits and updates first, then its last steps; a shorter one gets more
  comments, so the count is exact (`--entries` must be at least setup + 3 per person + 1
  per record). With no records to add, the entries are comments on open records.
* **Security events** (`--events`): received raw events as ingest stores them (payload, its
  SHA-256 and size, event time, OCSF class, actor, source address, timing; 0.1 % cut lines
  quarantined with the parser's reason), and the per-minute rollups ingest keeps, counted
  by `monitoring.rollups.rebuild` once the events are in. Lines are the synthetic plant's
  (its renderers, with this site's people), made into templates: a pool is rendered and
  parsed by the product's parsers once, then each event is a template with its own time
  (parsing every line would cost 140 µs each).

Rows go in with COPY on PostgreSQL (psycopg's `cursor.copy`) and `executemany` on SQLite
(meant for tiny sizes: tests), in chunks, with progress on stderr and a summary of rows per
table, seconds and rows per second. Each growth spreads what it adds over the same period
(`--days`, ending now), so a database grown in steps holds interleaved histories.

This module writes (`Writer`), sets up the site and its people; `bigsite_records.py` lives
the records, `bigsite_events.py` the events. The trail's keys live in the data directory
(`--data-dir`): grow a database again only
with the directory it was made with. Use a throw-away database; nothing here undoes a run.

    .venv/bin/python benchmarks/bigsite.py --database-url postgresql://u@host/db \\
        --people 5000 --records 1e6 --entries 1e7 --events 1e8 [--days 365]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import hashlib
import operator
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent

SEED = "cyberqms-bigsite"
DAYS = 365
ENTRY_CHUNK = 50_000  # entries per flush, each flush sealed by one checkpoint
ID_BLOCK = 10_000  # primary keys reserved at a time
# Fields whose Python values psycopg writes as Django would: no preparation on PostgreSQL.
AS_IS = frozenset({
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "DateField",
    "DateTimeField", "ForeignKey", "GenericIPAddressField", "IntegerField", "OneToOneField",
    "PositiveBigIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
    "SmallIntegerField", "TextField",
})
# Every person shares these two (hashed once): synthetic accounts.
PASSWORD = "big site shared password 2026"  # noqa: S105  (synthetic accounts)
ONE_TIME = "big site one-time password"

# (code, name, country, time zone); the first two are the plant's (its systems send events).
SITES = (
    ("BSL", "Basel Biologics Plant", "CH", "Europe/Zurich"),
    ("DUB", "Dublin Fill & Finish", "IE", "Europe/Dublin"),
    ("SGP", "Singapore Oral Solids", "SG", "Asia/Singapore"),
    ("RTP", "Research Triangle Park", "US", "America/New_York"),
    ("MUC", "Munich Packaging Centre", "DE", "Europe/Berlin"),
    ("SHA", "Shanghai Clinical Supply", "CN", "Asia/Shanghai"),
)
# Roles of people in turn (the first five cover what a record's workflow needs); the
# people of one turn work at one site. QA managers, IT security and auditors work for
# every site (a grant without a site), the others at theirs.
ROLE_TURN = ("author", "process_owner", "qa_reviewer", "qa_manager", "it_security",
             "author", "author", "author", "author", "author", "author", "author", "author",
             "author", "process_owner", "process_owner", "process_owner", "qa_reviewer",
             "system_owner", "auditor")
GLOBAL_ROLES = frozenset({"qa_manager", "it_security", "auditor"})
PRIVILEGED = frozenset({"qa_manager", "it_security", "system_owner"})

FIRST = ("Anna", "Ben", "Chiara", "David", "Elif", "Fatima", "Georg", "Hana", "Ivan", "Julia",
         "Kenji", "Lea", "Mateo", "Nora", "Omar", "Paula", "Quentin", "Rosa", "Sven", "Tara",
         "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Aoife", "Bruno", "Chen", "Dara",
         "Emil", "Frida", "Gustavo", "Hiro", "Ines", "Jonas", "Kira", "Luca", "Mei", "Niamh")
LAST = ("Müller", "Murphy", "Tan", "Rossi", "Keller", "O'Brien", "Lim", "Schmid", "Walsh",
        "Huber", "Ng", "Meier", "Kelly", "Wong", "Fischer", "Byrne", "Lee", "Weber", "Ryan",
        "Chua", "Brunner", "Doyle", "Goh", "Frei", "Nolan", "Koh", "Baumann", "Quinn", "Teo",
        "Zimmermann", "Smith", "Garcia", "Kumar", "Nowak", "Silva", "Kaya", "Jensen", "Li")


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def moment(seconds: float) -> dt.datetime:
    """An aware UTC time from epoch seconds."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class Progress:
    """Progress lines on stderr, at most every few seconds; the rows written per table, and
    the seconds and rows of each phase."""

    def __init__(self, out: TextIO = sys.stderr, every: float = 5.0) -> None:
        self.out = out
        self.every = every
        self.rows: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.phase_rows: Counter[str] = Counter()
        self._shown = 0.0

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[float]:
        """Time a phase (`people`, `records` …) and count the rows it writes."""
        before = sum(self.rows.values())
        began = time.perf_counter()
        try:
            yield began
        finally:
            self.seconds[name] += time.perf_counter() - began
            self.phase_rows[name] += sum(self.rows.values()) - before

    def note(self, phase: str, done: int, total: int, started: float) -> None:
        now = time.perf_counter()
        if now - self._shown < self.every and done < total:
            return
        self._shown = now
        rate = done / max(now - started, 1e-9)
        print(f"  {phase}: {done:,} of {total:,} ({rate:,.0f}/s)", file=self.out, flush=True)


# --- writing rows and entries ------------------------------------------------------------------


class Writer:
    """Model rows and audit entries, written in bulk: COPY on PostgreSQL, `executemany` on
    SQLite; the entries numbered after the trail's last, sealed by the trail's sealer.

    Rows keep the values given (no `auto_now`, no defaults at save): what the model holds
    is what its audit entry hashed."""

    def __init__(self, progress: Progress) -> None:
        from django.db import connection

        from cyberqms.platform.trail.mac import mac_keys

        self.db = connection
        self.postgres = connection.vendor == "postgresql"
        self.progress = progress
        self.seq = 0  # the last entry's number, read again before each chunk
        self.authenticator = mac_keys().authenticator
        self.entries: list[list[Any]] = []
        self.pending: dict[type[Any], list[Any]] = {}
        self._ids: dict[type[Any], tuple[int, int]] = {}  # model -> (next id, end of block)
        self._actors: dict[int | None, dict[str, Any]] = {}

    # --- primary keys ---

    def next_id(self, model: type[Any]) -> int:
        """A fresh primary key of `model` (reserved in blocks, never reused)."""
        start, end = self._ids.get(model, (0, 0))
        if start >= end:
            start, end = self._reserve(model, ID_BLOCK)
        self._ids[model] = (start + 1, end)
        return start

    def _reserve(self, model: type[Any], count: int) -> tuple[int, int]:
        table, column = model._meta.db_table, model._meta.pk.column
        with self.db.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "WITH f AS (SELECT nextval(pg_get_serial_sequence(%s, %s)) AS v) "
                    "SELECT v, setval(pg_get_serial_sequence(%s, %s), v + %s - 1) FROM f",
                    [table, column, table, column, count])
                first = int(cursor.fetchone()[0])
            else:
                # SQLite: only this process writes while it runs; AUTOINCREMENT follows the
                # explicit keys inserted.
                quoted = self.db.ops.quote_name
                cursor.execute(
                    "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                    f"COALESCE((SELECT MAX({quoted(column)}) FROM {quoted(table)}), 0))", [table])
                first = int(cursor.fetchone()[0]) + 1
                first = max(first, self._ids.get(model, (0, 0))[1])
        return first, first + count

    # --- rows ---

    def add(self, obj: Any) -> None:
        self.pending.setdefault(type(obj), []).append(obj)

    def insert(self, model: type[Any], objs: Sequence[Any]) -> None:
        """Write `objs` (their primary keys set) as they are."""
        if not objs:
            return
        db = self.db
        fields = list(model._meta.concrete_fields)
        quoted = db.ops.quote_name
        table = quoted(model._meta.db_table)
        columns = ", ".join(quoted(f.column) for f in fields)
        with db.cursor() as cursor:
            if self.postgres:
                values = operator.attrgetter(*(f.attname for f in fields))
                prepared = [(i, f.get_db_prep_save) for i, f in enumerate(fields)
                            if f.get_internal_type() not in AS_IS]
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for obj in objs:
                        row = values(obj)
                        if prepared:
                            row = list(row)
                            for i, prep in prepared:
                                row[i] = prep(row[i], db)
                        copy.write_row(row)
            else:
                preps = [(f.attname, f.get_db_prep_save) for f in fields]
                marks = ", ".join(["%s"] * len(fields))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    [[prep(getattr(obj, name), db) for name, prep in preps] for obj in objs])
        self.progress.rows[model._meta.db_table] += len(objs)

    # --- audit entries ---

    def actor(self, user: Any | None) -> dict[str, Any]:
        from cyberqms.platform.trail.record import _actor_fields

        key = None if user is None else user.pk
        found = self._actors.get(key)
        if found is None:
            found = self._actors[key] = _actor_fields(user)
        return found

    def entry(self, at: dt.datetime, action: str, *, actor: Any | None, object_type: str,
              object_id: str, label: str, changes: dict[str, Any], state: str = "",
              reason: str | None = None, signature: int | None = None,
              source: str | None = None, session: str | None = None,
              correlation: str, channel: str = "web") -> None:
        """One entry as `audit_record` writes it (trail/record.py), numbered next."""
        from cyberqms.platform.trail.canonical import canonical_json_prevalidated
        from cyberqms.platform.trail.log import max_seq
        from cyberqms.platform.trail.record import ENTRY_VERSION

        if not self.entries:  # services may have written entries since the last chunk
            self.seq = max_seq()
        self.seq += 1
        fields = self.actor(actor)
        body = canonical_json_prevalidated({
            "v": ENTRY_VERSION,
            "seq": self.seq,
            "at": at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z",
            "actor": fields,
            "action": action,
            "object": {"type": object_type, "id": object_id, "label": label[:200]},
            "changes": changes,
            "reason": reason,
            "correlation": correlation,
            "signature": None if signature is None else str(signature),
            "context": {"channel": channel, "source": source, "session": session,
                        "token": None},
            "state": state or None,
        })
        leaf = hashlib.sha256(b"\x00" + body).digest()
        self.entries.append([
            self.seq, self.db.ops.adapt_datetimefield_value(at), fields["id"], action,
            object_type, object_id, state, correlation, leaf, body.decode("utf-8"),
            self.authenticator(leaf),
        ])

    def flush(self) -> None:
        """Write the pending rows and entries (one transaction), then seal a checkpoint."""
        from django.db import transaction

        from cyberqms.platform.trail.log import trail_seal

        with transaction.atomic():
            for model, objs in self.pending.items():
                self.insert(model, objs)
            self.pending = {}
            if self.entries:
                self._write_entries()
        if self.entries:
            self.entries = []
            trail_seal()
            self.progress.rows["trail_checkpoint"] += 1

    def _write_entries(self) -> None:
        from cyberqms.platform.trail.models import AuditEntry

        # The entry rows hold the model's columns in its order (as trail/record.py writes).
        table = AuditEntry._meta.db_table
        columns = ", ".join(f.column for f in AuditEntry._meta.concrete_fields)
        with self.db.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.entries:
                        copy.write_row(row)
                # The writers draw numbers from this sequence (trail/record.py).
                cursor.execute("SELECT setval('trail_entry_seq', %s)", [self.seq])
            else:
                marks = ", ".join(["%s"] * len(self.entries[0]))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                                   self.entries)
        self.progress.rows[table] += len(self.entries)


def bare(model: type[Any], **values: Any) -> Any:
    """An instance of `model` holding `values` (every field's, by attname), made without
    `Model.__init__` (a fraction of its cost) while no `pre_init`/`post_init` receiver
    exists to miss it, as the trail makes its entries (trail/record.py)."""
    from django.db.models.base import ModelState
    from django.db.models.signals import post_init, pre_init

    if pre_init.receivers or post_init.receivers:
        return model(**values)
    obj = model.__new__(model)
    obj.__dict__.update(values)
    obj._state = ModelState()
    return obj


def childless(obj: Any) -> Any:
    """Mark a generated record as having no child rows (the generator makes none), as a
    prefetch would: code reading its reverse relations (a CAPA's plan in its signature
    hash) gets the empty answer without a query."""
    cache = obj.__dict__.setdefault("_prefetched_objects_cache", {})
    for relation in obj._meta.related_objects:
        if relation.one_to_many:
            cache[relation.cache_name] = relation.related_model._default_manager.none()
    return obj


def correlation(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


@functools.lru_cache(maxsize=65_536)
def session_of(user_id: int, day: int) -> str:
    """A person's session reference on one day (what `access.session_ref` keeps)."""
    return hashlib.sha256(f"bigsite:{user_id}:{day}".encode()).hexdigest()[:16]


# --- who works here ----------------------------------------------------------------------------


@dataclass
class Person:
    user: Any
    role: str
    site_id: int | None
    ip: str


@dataclass
class Cast:
    """The administrator, the sites and the people by role and site."""

    admin: Any
    sites: list[Any]
    people: list[Person] = field(default_factory=list)
    by_role: dict[tuple[str, int | None], list[Person]] = field(default_factory=dict)
    by_id: dict[int, Person] = field(default_factory=dict)

    def add(self, person: Person) -> None:
        self.people.append(person)
        self.by_id[person.user.pk] = person
        self.by_role.setdefault((person.role, None), []).append(person)
        if person.site_id is not None:
            self.by_role.setdefault((person.role, person.site_id), []).append(person)

    def pick(self, rng: random.Random, role: str, site_id: int) -> Person:
        """Someone holding `role` at the site (or anywhere: a role the site lacks)."""
        found = self.by_role.get((role, site_id)) or self.by_role.get((role, None))
        return rng.choice(found or self.people)

    def first(self, role: str) -> Any:
        found = self.by_role.get((role, None))
        if not found:
            raise SystemExit(f"bigsite: no one holds the role {role}: add people")
        return found[0].user

    @staticmethod
    def load() -> Cast:
        from cyberqms.platform.accounts.models import RoleAssignment, Site

        sites = list(Site.objects.order_by("pk"))
        admin = None
        cast = Cast(admin=None, sites=sites)
        grants = (RoleAssignment.objects.filter(revoked_at__isnull=True)
                  .select_related("user").order_by("user_id", "pk"))
        site_of = {s.pk: s for s in sites}
        seen: set[int] = set()
        for grant in grants:
            if grant.role == "administrator":
                admin = grant.user
                continue
            if grant.user_id in seen:
                continue
            seen.add(grant.user_id)
            home = grant.user.site_id or (sites[0].pk if sites else None)
            cast.add(Person(grant.user, grant.role, grant.site_id,
                            person_ip(site_of.get(home), grant.user_id)))
        cast.admin = admin
        return cast


def person_ip(site: Any, user_id: int) -> str:
    """A person's workstation address in their site's office network."""
    octet = 10 + 10 * (site.pk - 1 if site is not None else 0) % 240
    return f"10.{octet}.{(user_id // 250) % 250}.{user_id % 250 + 1}"


def setup(start: dt.datetime, sites_wanted: int) -> Cast:
    """The administrator and the sites, through the services, dated before the period."""
    from allauth.mfa.totp.internal.auth import TOTP

    from cyberqms.demo.records.clock import SimulatedClock, simulated_time
    from cyberqms.platform.accounts.bootstrap import bootstrap_administrator
    from cyberqms.platform.accounts.models import Site
    from cyberqms.platform.accounts.services import site_create, user_password_changed
    from cyberqms.platform.core.context import RequestContext, acting_context

    cast = Cast.load()
    clock = SimulatedClock(start - dt.timedelta(days=3))
    with simulated_time(clock), acting_context(RequestContext(channel="cli")):
        if cast.admin is None:
            admin = bootstrap_administrator(username="admin", full_name="Site Administrator",
                                            email="admin@bigsite.test").user
            admin.set_password(PASSWORD)
            admin.save(update_fields=["password"])
            user_password_changed(admin)
            TOTP.activate(admin, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
            admin.forget_access_cache()
            cast.admin = admin
        have = set(Site.objects.values_list("code", flat=True))
        for code, name, country, zone in SITES[:sites_wanted]:
            if code not in have:
                site_create(actor=cast.admin, code=code, name=name, country=country,
                            time_zone=zone)
    cast.sites = list(Site.objects.order_by("pk"))
    return cast


def add_people(cast: Cast, count: int, start: dt.datetime, writer: Writer,
               rng: random.Random) -> None:
    """`count` more people, each created, granted a role and past their first sign-in, with
    the three entries the services write for that (user create, role grant, password
    change) and, for privileged roles, an authenticator like the administrator's."""
    if count <= 0:
        return
    with writer.progress.phase("people") as began:
        _people(cast, count, start, writer, rng, began)


def _people(cast: Cast, count: int, start: dt.datetime, writer: Writer, rng: random.Random,
            began: float) -> None:
    from allauth.mfa.models import Authenticator
    from django.contrib.auth.hashers import make_password

    from cyberqms.platform.accounts.models import RoleAssignment, User
    from cyberqms.platform.trail.registry import audited, diff, state_hash

    user_spec, role_spec = audited(User), audited(RoleAssignment)
    one_time, chosen = make_password(ONE_TIME), make_password(PASSWORD)
    template = Authenticator.objects.filter(user=cast.admin, type=Authenticator.Type.TOTP).first()
    admin = cast.admin
    existing = User.objects.count()
    at = start - dt.timedelta(days=2)
    taken = set(User.objects.values_list("username", flat=True))
    for i in range(count):
        number = existing + i
        role = ROLE_TURN[number % len(ROLE_TURN)]
        site = cast.sites[(number // len(ROLE_TURN)) % len(cast.sites)]
        first, last = FIRST[rng.randrange(len(FIRST))], LAST[rng.randrange(len(LAST))]
        base = (first[0] + last).lower().replace("'", "").replace("ü", "ue")
        username = base
        while username in taken:
            username = f"{base}{rng.randrange(2, 10_000)}"
        taken.add(username)
        at += dt.timedelta(seconds=rng.uniform(20, 120))
        user = User(pk=writer.next_id(User), username=username, full_name=f"{first} {last}",
                    email=f"{username}@bigsite.test", kind="person",
                    work_pattern="shift" if role == "author" and number % 3 == 0 else "day",
                    title=role.replace("_", " ").capitalize(), site_id=site.pk,
                    time_zone=site.time_zone, must_change_password=True, password=one_time,
                    date_joined=at, is_active=True)
        created = user_spec.state(user)
        context = {"correlation": correlation(rng), "source": "10.13.0.5",
                   "session": session_of(admin.pk, int(at.timestamp() // 86_400))}
        writer.entry(at, "accounts.user.create", actor=admin, object_type="accounts.user",
                     object_id=str(user.pk), label=user_spec.label(user),
                     changes={**diff(None, created), "time_zone": [None, user.time_zone]},
                     state=state_hash(created), reason="New starter (HR onboarding)",
                     **context)
        grant = RoleAssignment(pk=writer.next_id(RoleAssignment), user=user, role=role,
                               site_id=None if role in GLOBAL_ROLES else site.pk,
                               valid_from=at, granted_by_id=admin.pk, granted_at=at,
                               grant_reason="New starter (HR onboarding)")
        granted = role_spec.state(grant)
        writer.entry(at, "accounts.role.grant", actor=admin, object_type="accounts.role",
                     object_id=str(grant.pk), label=role_spec.label(grant),
                     changes=diff(None, granted), state=state_hash(granted),
                     reason="New starter (HR onboarding)", **context)
        first_day = at + dt.timedelta(hours=rng.uniform(1, 30))
        user.password, user.must_change_password = chosen, False
        user.password_changed_at = first_day
        after = user_spec.state(user)
        ip = person_ip(site, user.pk)
        writer.entry(first_day, "accounts.user.password_change", actor=user,
                     object_type="accounts.user", object_id=str(user.pk),
                     label=user_spec.label(user), changes=diff(created, after),
                     state=state_hash(after), correlation=correlation(rng), source=ip,
                     session=session_of(user.pk, int(first_day.timestamp() // 86_400)))
        writer.add(user)
        writer.add(grant)
        if role in PRIVILEGED and template is not None:
            writer.add(Authenticator(pk=writer.next_id(Authenticator), user_id=user.pk,
                                     type=template.type, data=template.data,
                                     created_at=first_day))
        cast.add(Person(user, role, grant.site_id, ip))
        if len(writer.entries) >= ENTRY_CHUNK:
            writer.flush()  # users first: their models came first (foreign keys)
        writer.progress.note("people", i + 1, count, began)
    writer.flush()


# --- the whole site ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """Totals to grow the database to (never shrunk)."""

    people: int
    records: int
    entries: int
    events: int


def counts() -> Sizes:
    """What the database holds: users, quality records, audit entries, raw events."""
    from cyberqms.platform.accounts.models import User
    from cyberqms.platform.kit.records import registered_kinds
    from cyberqms.platform.trail.services import entry_count
    from cyberqms.security.monitoring.models import RawEvent

    return Sizes(User.objects.count(),
                 sum(k.model._default_manager.count() for k in registered_kinds()),
                 entry_count(), RawEvent.objects.count())


def generate(sizes: Sizes, *, days: int = DAYS, seed: str = SEED,
             out: TextIO = sys.stderr) -> Progress:
    """Grow the database to `sizes` (see the module docstring); the rows written per table
    and the seconds per phase."""
    from bigsite_events import add_events, ensure_sources
    from bigsite_records import Records

    progress = Progress(out)
    began = time.perf_counter()
    end = _now() - dt.timedelta(minutes=5)
    start = end - dt.timedelta(days=days)
    have = counts()
    rng = random.Random(f"{seed}/{have}")  # reproducible: the same sizes, the same data
    wanted_sites = 2 if sizes.people < 1000 else min(len(SITES), 2 + sizes.people // 1250)
    cast = setup(start, wanted_sites)
    writer = Writer(progress)
    add_people(cast, sizes.people - counts().people, start, writer, rng)
    sources = ensure_sources(cast, start) if sizes.events > have.events else {}
    now = counts()
    records = Records(cast, writer, rng)
    budget = sizes.entries - now.entries
    if sizes.records > now.records:
        records.add(sizes.records - now.records, budget, start, end)
    elif budget > 0:
        records.comments(budget, end)
    if sizes.events > now.events:
        add_events(sizes.events - now.events, sources, cast, start, end, writer, rng)
    progress.seconds["total"] = time.perf_counter() - began
    return progress


def summary(progress: Progress) -> str:
    """Rows written per table; seconds, rows and rows per second per phase."""
    lines = [f"  {'table':28} {'rows added':>12}"]
    lines += [f"  {table:28} {rows:12,}" for table, rows in sorted(progress.rows.items())]
    lines.append(f"\n  {'phase':10} {'seconds':>9} {'rows':>12} {'rows/s':>9}")
    for phase, seconds in progress.seconds.items():
        rows = progress.phase_rows[phase] if phase != "total" else sum(progress.rows.values())
        lines.append(f"  {phase:10} {seconds:9.1f} {rows:12,} {rows / max(seconds, 1e-9):9,.0f}")
    return "\n".join(lines)


def parse_size(text: str) -> int:
    """`1e6`, `1000000` or `1_000_000`."""
    return int(float(text.replace("_", "")))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="a throw-away PostgreSQL database (postgresql://...)")
    parser.add_argument("--data-dir", default=str(HERE.parent / "var" / "bigsite"),
                        help="the installation's data directory (the trail's keys)")
    parser.add_argument("--people", type=parse_size, default=5000)
    parser.add_argument("--records", type=parse_size, default=10**6)
    parser.add_argument("--entries", type=parse_size, default=10**7)
    parser.add_argument("--events", type=parse_size, default=10**8)
    parser.add_argument("--days", type=int, default=DAYS)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(HERE.parent / "src")]
    from writes import setup_django

    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    setup_django(data_dir, args.database_url, benchapp=False)
    progress = generate(Sizes(args.people, args.records, args.entries, args.events),
                        days=args.days)
    print(summary(progress))
    print(f"now: {counts()}")


if __name__ == "__main__":
    # Run as the module `bigsite`, the one its parts (bigsite_records, bigsite_events)
    # import, not as a second copy named __main__.
    import bigsite

    bigsite.main()
