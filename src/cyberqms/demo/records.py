"""18 months of demo quality records, made through the services under a simulated clock.

`cyberqms demo` on a fresh database starts a `SimulatedClock` about 18.5 months ago and
patches `django.utils.timezone.now` with it (`simulated_time`), so every timestamp the
project writes (audit entries, signatures, access decisions, `auto_now` fields) is the
simulated one. Each record is a *script*: a generator that takes one workflow step, then
yields when its next step happens. `Timeline` runs the steps of all scripts in one global
time order, so the audit trail stays ordered in time and verifies like any other.

Nothing here writes to the database directly: deviations, CAPAs, actions, effectiveness
checks, change tasks, comments, attachments, links, extensions and deletions all go
through their services, with e-signatures given by the demo people on the CLI channel.
A script whose next step would fall after the end of the simulation simply stops: recent
records stay open at whatever step they reached. A few are meant to stall (overdue).

The data are reproducible: one `random.Random(2026)` draws every choice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.utils import timezone

from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.core.models import Signature
from cyberqms.platform.kit import record_parts as parts
from cyberqms.platform.kit.records import registered_kinds
from cyberqms.platform.kit.signatures import SignatureRequest, commitment_accept
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.capa import services as capa_services
from cyberqms.quality.capa.models import Capa, CapaAction
from cyberqms.quality.changes import services as change_services
from cyberqms.quality.changes.enums import PirOutcome
from cyberqms.quality.changes.models import Change
from cyberqms.quality.changes.workflow import CHANGE_WORKFLOW
from cyberqms.quality.deviations import services as deviation_services
from cyberqms.quality.deviations.models import Deviation
from cyberqms.quality.deviations.workflow import DEVIATION_WORKFLOW

from . import content
from . import monitoring as demo_monitoring

SEED = 2026
SIMULATED_DAYS = 563  # about 18.5 months
RECORDS_FROM_DAY = 12  # the first records, after the organization has settled in
DEVIATIONS = 62
CHANGES = 24
STANDALONE_CAPAS = 8  # from audits, incidents, complaints (more come from deviations)

Wait = dt.datetime | dt.timedelta
Script = Generator[Wait]


# --- the clock ------------------------------------------------------------------------------


class SimulatedClock:
    """A clock that only moves forward; each reading is a millisecond after the last, so
    entries written in one step keep their order in time too."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def now(self) -> dt.datetime:
        self.current += dt.timedelta(milliseconds=1)
        return self.current

    def move_to(self, when: dt.datetime) -> None:
        self.current = max(self.current, when)


@contextlib.contextmanager
def simulated_time(clock: SimulatedClock) -> Iterator[SimulatedClock]:
    """Make `clock` the project's time: `timezone.now` and the model fields whose default
    is `timezone.now` (bound at import, so patched one by one). Restored on exit."""
    original = timezone.now
    swapped: dict[int, Any] = {}
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if f.default is original and id(f) not in swapped:
                swapped[id(f)] = f
    try:
        for f in swapped.values():
            f.default = clock.now
            f.__dict__.pop("_get_default", None)  # a cached_property holding the old callable
        timezone.now = clock.now
        yield clock
    finally:
        timezone.now = original
        for f in swapped.values():
            f.default = original
            f.__dict__.pop("_get_default", None)


class Timeline:
    """Runs scripts step by step in the order of their times."""

    def __init__(self, clock: SimulatedClock, end: dt.datetime) -> None:
        self.clock = clock
        self.end = end
        self.steps = 0
        self.stopped = 0  # scripts whose next step fell after the end
        self._heap: list[tuple[dt.datetime, int, str, Script]] = []
        self._order = itertools.count()

    def start(self, when: dt.datetime, script: Script, name: str) -> None:
        heapq.heappush(self._heap, (when, next(self._order), name, script))

    def next_at(self) -> dt.datetime | None:
        """When the next waiting step is due (during a step: of another script)."""
        return self._heap[0][0] if self._heap else None

    def run(self, after_step: Callable[[], None] = lambda: None) -> None:
        while self._heap:
            when, _, name, script = heapq.heappop(self._heap)
            if when >= self.end:
                script.close()
                self.stopped += 1
                continue
            self.clock.move_to(when)
            try:
                with acting_context(RequestContext(channel="cli")):
                    wait = next(script)
            except StopIteration:
                continue
            except Exception as exc:
                exc.add_note(f"demo: step of {name} at {self.clock.current:%Y-%m-%d %H:%M}")
                raise
            self.steps += 1
            following = wait if isinstance(wait, dt.datetime) else self.clock.current + wait
            heapq.heappush(self._heap, (max(following, self.clock.current), next(self._order),
                                        name, script))
            after_step()


# --- the people -----------------------------------------------------------------------------


@dataclass
class Cast:
    """The demo organization as the loader needs it."""

    admin: Any
    sites: dict[str, Any]
    people: dict[str, Any]  # by username
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def qa_manager(self) -> Any:
        return self.people["hbrandt"]

    @property
    def qa_reviewer(self) -> Any:
        return self.people["treyes"]

    @property
    def process_owner(self) -> Any:
        return self.people["pnatarajan"]

    @property
    def author(self) -> Any:
        return self.people["jweber"]

    @property
    def it_security(self) -> Any:
        return self.people["aokafor"]

    @property
    def system_owner(self) -> Any:
        return self.people["mbianchi"]

    def department(self, site: str, code: str) -> Any:
        from cyberqms.platform.accounts.models import Department

        return Department.objects.filter(site=self.sites[site], code=code).first()


def _person_password(cast: Cast, user: Any) -> str:
    return cast.passwords[user.username]


# --- the loader -----------------------------------------------------------------------------


@dataclass
class Summary:
    elapsed: float = 0.0
    steps: int = 0
    rows: list[tuple[str, str, int]] = field(default_factory=list)
    overdue: dict[str, int] = field(default_factory=dict)
    cyber: dict[str, int] = field(default_factory=dict)
    signatures: int = 0
    audit_entries: int = 0


class RecordLoader:
    """Builds the scripts of every record and runs them on one timeline."""

    def __init__(self, cast: Cast, clock: SimulatedClock, end: dt.datetime, *,
                 out: Any = None, scale: float = 1.0) -> None:
        self.cast = cast
        self.clock = clock
        self.end = end
        self.out = out
        self.scale = scale
        self.rng = random.Random(SEED)  # noqa: S311  # reproducible demo data, not secrets
        self.timeline = Timeline(clock, end)
        self.made: Counter[str] = Counter()
        self.refs: Counter[str] = Counter()
        self.capa_fates: Counter[str] = Counter()
        self._progress_at = 0

    # --- time helpers ---------------------------------------------------------------------

    def office(self, when: dt.datetime, rng: random.Random | None = None) -> dt.datetime:
        """`when`, moved into office hours (Monday to Friday, 07:00–17:00 UTC). Scripts with
        a random source of their own pass it, so they leave the others' draws as they are."""
        rng = rng or self.rng
        if when.hour < 7:
            when = when.replace(hour=7 + rng.randint(0, 2), minute=rng.randint(0, 59))
        elif when.hour >= 17:
            when = (when + dt.timedelta(days=1)).replace(hour=7 + rng.randint(0, 2),
                                                         minute=rng.randint(0, 59))
        while when.weekday() >= 5:
            when += dt.timedelta(days=1)
        return when

    def later(self, low_days: float, high_days: float,
              rng: random.Random | None = None) -> dt.datetime:
        delay = dt.timedelta(days=(rng or self.rng).uniform(low_days, high_days))
        return self.office(self.clock.current + delay, rng)

    def today(self) -> dt.date:
        return timezone.localdate()

    def in_days(self, low: int, high: int) -> dt.date:
        return self.today() + dt.timedelta(days=self.rng.randint(low, high))

    def sign(self, user: Any) -> SignatureRequest:
        """The person's e-signature on the CLI channel: password (no authenticator yet)."""
        return SignatureRequest(password=_person_password(self.cast, user), otp="",
                                request=None)

    def security_reference(self, prefix: str) -> str:
        year = self.clock.current.year
        self.refs[f"{prefix}-{year}"] += 1
        number = self.refs[f"{prefix}-{year}"] * 3 + self.rng.randint(0, 2)
        return f"{prefix}-{year}-{number:04d}"

    # --- running ------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text + "\n")
            self.out.flush()

    def _progress(self) -> None:
        total = sum(self.made[k] for k in ("deviation", "capa", "change"))
        if total >= self._progress_at + 10:
            self._progress_at = total - total % 10
            self.say(
                f"    {self.clock.current:%Y-%m-%d}  {self.made['deviation']:3d} deviations  "
                f"{self.made['capa']:3d} CAPAs  {self.made['change']:3d} changes  "
                f"({self.timeline.steps} steps)"
            )

    def load(self) -> Summary:
        started = time.monotonic()
        start = self.clock.current
        first = start + dt.timedelta(days=RECORDS_FROM_DAY)
        last = self.end - dt.timedelta(hours=10)
        self.say("  · people settle in: passwords chosen, signature statement accepted")
        for i, user in enumerate(self.cast.people.values()):
            self.timeline.start(self.office(start + dt.timedelta(hours=20 + 3 * i)),
                                self.settle_in(user), f"settling in {user.username}")
        n_dev = max(1, round(DEVIATIONS * self.scale))
        n_capa = max(1, round(STANDALONE_CAPAS * self.scale))
        n_change = max(1, round(CHANGES * self.scale))
        self.say(f"  · scheduling {n_dev} deviations, {n_capa} CAPAs from audits, incidents "
                 f"and complaints, {n_change} change controls (more CAPAs are spawned from "
                 "deviations)")
        templates = self._deviation_templates(n_dev)
        for i, when in enumerate(self._moments(n_dev, first, last, recent=3)):
            self.timeline.start(when, self.deviation(i, n_dev, templates[i]),
                                f"deviation {i + 1}")
        for i, when in enumerate(self._moments(n_capa, first, last - dt.timedelta(days=3),
                                               recent=1)):
            source = content.STANDALONE_CAPAS[i % len(content.STANDALONE_CAPAS)]
            # The newest stays a draft plan whatever the hour the demo is loaded at.
            self.timeline.start(when, self.standalone_capa(i, source, draft=i == n_capa - 1),
                                f"CAPA {i + 1}")
        changes = self._change_templates(n_change)
        for i, when in enumerate(self._moments(n_change, first, last, recent=2)):
            self.timeline.start(when, self.change(i, n_change, changes[i]), f"change {i + 1}")
        for kind in registered_kinds():
            # Families on the kit bring their own demo script (<family>/demo.py).
            family_demo = kind.module("demo")
            if family_demo is not None:
                count = family_demo.schedule(self)
                self.say(f"  · scheduling {count} {kind.plural_label.lower()}")
        monitoring = demo_monitoring.schedule(self)
        self.say(f"  · security monitoring goes live {monitoring.start:%Y-%m-%d}: the plant's "
                 "events fed through ingest, alerts triaged")
        self.say(f"  · running the timeline {start:%Y-%m-%d} → {self.end:%Y-%m-%d}")
        self.timeline.run(self._progress)
        self.say(f"  · {monitoring.finish().line()}")
        summary = summarize()
        summary.steps = self.timeline.steps
        summary.elapsed = time.monotonic() - started
        return summary

    def _moments(self, n: int, first: dt.datetime, last: dt.datetime, *,
                 recent: int = 0) -> list[dt.datetime]:
        """`n` moments from `first` to `last`, more of them lately (the system is used more
        as the months go by: density 0.6 + 0.8·x); the last `recent` in the last 10 days."""
        span = (last - first).total_seconds()
        moments = []
        for k in range(n):
            if k < min(recent, n - 1):
                when = last - dt.timedelta(days=self.rng.uniform(0.5, 10))
            else:
                x = (-0.6 + (0.36 + 1.6 * self.rng.random()) ** 0.5) / 0.8
                when = first + dt.timedelta(seconds=x * span)
            moments.append(min(self.office(when), last))
        return sorted(moments)

    def _deviation_templates(self, n: int) -> list[content.DeviationTemplate]:
        """A quarter cyber-related, the rest classic, each list taken in turn."""
        cyber = [t for t in content.DEVIATIONS if t.cyber]
        classic = [t for t in content.DEVIATIONS if not t.cyber]
        n_cyber = round(n * 0.25)
        chosen = [cyber[k % len(cyber)] for k in range(n_cyber)]
        chosen += [classic[k % len(classic)] for k in range(n - n_cyber)]
        self.rng.shuffle(chosen)
        return chosen

    def _change_templates(self, n: int) -> list[content.ChangeTemplate]:
        fixed = [t for t in content.CHANGES if "{" not in t.title]
        repeatable = [t for t in content.CHANGES if "{" in t.title]
        chosen = list(fixed)
        while len(chosen) < n:
            chosen.append(repeatable[len(chosen) % len(repeatable)])
        self.rng.shuffle(chosen)
        return chosen[:n]

    def _fill(self, text: str, values: dict[str, str]) -> str:
        return text.format(**values) if "{" in text else text

    def _values(self, site: str) -> dict[str, str]:
        rng, now = self.rng, self.clock.current
        code = "101" if rng.random() < 0.6 else ("117" if site == "BSL" else "205")
        return {
            "batch": f"CQ{code}-{now:%y}-{rng.randint(100, 990):04d}",
            "room": str(rng.choice([2, 3, 4, 5, 7])),
            "line": str(rng.choice([1, 2, 3])),
            "n": str(rng.randint(1, 9)),
            "product": rng.choice(content.PRODUCTS[site]),
            "sop": rng.choice(content.SOPS),
            "part": rng.choice(content.PARTS),
            "ref": "",
        }

    # --- scripts ------------------------------------------------------------------------------

    def settle_in(self, user: Any) -> Script:
        """First sign-in: the person chooses a password and accepts the statement."""
        from cyberqms.platform.accounts.services import user_password_changed

        chosen = f"demo-{user.username}-{self.rng.randint(10**8, 10**9)}"
        user.set_password(chosen)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        user_password_changed(user)
        self.cast.passwords[user.username] = chosen
        yield self.later(0.01, 0.05)
        commitment_accept(user)
        # From now on the person reads the inbox about once a week.
        from cyberqms.platform.notifications.services import notifications_mark_all_read

        while True:
            yield self.later(5, 9)
            if self.end - self.clock.current > dt.timedelta(days=10):
                notifications_mark_all_read(user)

    def _workers(self, site: str, cyber: bool) -> list[Any]:
        c = self.cast
        if cyber:
            return [c.it_security, c.system_owner]
        return [c.author, c.process_owner] if site == "BSL" else [c.system_owner,
                                                                    c.process_owner]

    def deviation(self, i: int, n: int, t: content.DeviationTemplate) -> Script:
        rng, c = self.rng, self.cast
        svc = deviation_services
        values = self._values(t.site)
        if t.cyber:
            values["ref"] = self.security_reference(t.cyber)
        workers = self._workers(t.site, bool(t.cyber))
        originator = rng.choice([*workers, c.qa_reviewer] if t.dept == "QC" else workers)
        owner = rng.choice(workers)
        classification = rng.choice(t.classification)
        age = self.end - self.clock.current
        # What becomes of it (by position, so a smaller --scale keeps every fate).
        fate = "normal"
        if i in (round(n * 0.10), round(n * 0.45), round(n * 0.72)):
            fate = "cancelled"
        elif i == round(n * 0.62):
            fate = "deleted"
        elif i >= n - 2:
            fate = "draft" if i == n - 1 else "awaiting triage"  # the newest ones
        elif dt.timedelta(days=50) < age < dt.timedelta(days=220) and (
                self.made["stalled deviation"] < 4) and rng.random() < 0.5:
            fate = "stalled"
            self.made["stalled deviation"] += 1
        stall_no = self.made["stalled deviation"]
        now = self.clock.current
        event_at = now - dt.timedelta(hours=rng.uniform(0.5, 18))
        late_reason = ""
        if rng.random() < 0.08:
            event_at = now - dt.timedelta(days=rng.uniform(4, 9))
            late_reason = "Found during the periodic review of the records; raised at once."
        due = self.today() + dt.timedelta(days=20 if classification == "critical" else 30)
        d = svc.deviation_create(
            actor=originator, site=c.sites[t.site], owner=owner,
            title=self._fill(t.title, values), description=self._fill(t.description, values),
            event_at=event_at, late_entry_reason=late_reason, due_date=due,
            classification=classification, department=c.department(t.site, t.dept),
            area=self._fill(t.area, values), product_reference=self._fill(t.product, values),
            gxp_impact=bool(t.gxp), gxp_impact_text=self._fill(t.gxp, values),
            data_integrity_impact=bool(t.di), data_integrity_impact_text=self._fill(t.di, values),
            cyber_related=bool(t.cyber), security_reference=values["ref"],
            immediate_actions=self._fill(t.immediate, values),
        )
        self.made["deviation"] += 1
        if fate == "draft":
            return  # the originator is still writing it
        if fate == "deleted":
            yield self.later(0.05, 0.5)
            deleter = originator if originator in (c.author, c.process_owner) else c.qa_manager
            parts.record_delete(d, actor=deleter,
                                reason="Entered in error: the same event was recorded twice.")
            return
        yield self.later(0.02, 0.8)
        d = DEVIATION_WORKFLOW.run(d, "submit", actor=originator)
        if fate == "awaiting triage":
            return
        yield self.later(0.3, 3)
        if fate == "cancelled":
            DEVIATION_WORKFLOW.run(d, "cancel", actor=c.qa_manager, reason=rng.choice([
                "Not a deviation: the value was within the validated range of the method.",
                f"Duplicate of an open deviation on the same event ({values['batch']}).",
                "Planned event covered by an approved change control; no deviation.",
            ]))
            return
        d = DEVIATION_WORKFLOW.run(d, "triage", actor=c.qa_reviewer)
        span = {"minor": (6, 18), "major": (10, 30), "critical": (14, 40)}[classification]
        investigation_days = rng.uniform(*span)
        for who, text in t.comments:
            yield self.later(1, investigation_days / 3)
            author = {"qa": c.qa_reviewer, "owner": owner, "security": c.it_security}[who]
            parts.comment_add(d, actor=author, body=self._fill(text, values))
        if t.evidence and rng.random() < 0.7:
            yield self.later(0.5, 3)
            name, kind = t.evidence
            parts.attachment_add(d, actor=owner, filename=self._fill(name, values),
                                 data=evidence_file(kind, values, self.clock.current, rng),
                                 description="Evidence collected during the investigation")
        if fate == "stalled" and stall_no == 2:
            # Asks for more time; nobody has decided yet.
            yield self.later(investigation_days / 2, investigation_days)
            parts.extension_request(
                d, actor=owner, requested_due=(d.due_date or self.today()) + dt.timedelta(days=30),
                justification="Waiting for the vendor's root-cause report.")
        if fate == "normal" and i == round(n * 0.3):
            yield self.later(investigation_days / 3, investigation_days / 2)
            ext = parts.extension_request(
                d, actor=owner, requested_due=(d.due_date or self.today()) + dt.timedelta(days=21),
                justification="Supplier test results expected in three weeks.")
            yield self.later(0.5, 2)
            parts.extension_decide(ext, actor=c.process_owner if owner != c.process_owner
                                   else c.qa_manager, approve=True)
            investigation_days += 20
        yield self.later(investigation_days * 0.5, investigation_days * 0.8)
        d.refresh_from_db()
        if fate == "stalled" and stall_no % 2 == 1:
            return  # the investigation is still going on, past its due date
        capa_needed = t.capa is not None and rng.random() < (
            0.25 if classification == "minor" else 0.85)
        svc.deviation_update(d, actor=owner, reason="Investigation findings", changes={
            "investigation_summary": self._fill(t.summary, values),
            "root_cause_category": t.category,
            "root_cause": self._fill(t.root_cause, values),
            "capa_required": capa_needed,
        })
        if capa_needed and t.capa is not None:
            yield self.later(0.2, 2)
            capa_owner = rng.choice(self._workers(t.site, bool(t.cyber)))
            capa = svc.deviation_spawn_capa(
                d, actor=owner, owner=capa_owner, title=self._fill(t.capa.title, values),
                due_date=self.in_days(70, 110),
                description=f"Raised from {d.number}. {self._fill(t.capa.problem, values)}",
            )
            self.made["capa"] += 1
            self.timeline.start(self.later(0.5, 4), self.capa(capa, t.capa, values),
                                capa.number)
        yield self.later(investigation_days * 0.1, investigation_days * 0.3)
        d = DEVIATION_WORKFLOW.run(d, "complete_investigation", actor=owner)
        if fate == "stalled":
            return  # waiting in QA review
        if rng.random() < 0.15:
            yield self.later(1, 4)
            d = DEVIATION_WORKFLOW.run(d, "return", actor=c.qa_reviewer, reason=rng.choice([
                "The root cause is not supported by evidence: add the maintenance records.",
                "Assess the impact on the other batches made in the same period.",
            ]))
            yield self.later(2, 7)
            svc.deviation_update(d, actor=owner, reason="Investigation completed as asked",
                                 changes={"investigation_summary": d.investigation_summary
                                          + " Other batches of the period assessed: none "
                                            "affected; maintenance records attached."})
            yield self.later(0.1, 1)
            d = DEVIATION_WORKFLOW.run(d, "complete_investigation", actor=owner)
        yield self.later(1, 6)
        approver = c.qa_manager if (classification == "critical"
                                    or originator == c.qa_reviewer) else c.qa_reviewer
        d = DEVIATION_WORKFLOW.run(d, "approve", actor=approver, signature=self.sign(approver))
        yield self.later(0.5, 5)
        DEVIATION_WORKFLOW.run(d, "close", actor=c.qa_manager, signature=self.sign(c.qa_manager),
                            reason="Investigation complete; CAPA raised where required.")

    def standalone_capa(self, i: int, source: tuple[str, str, str, str, content.CapaPlan],
                        *, draft: bool = False) -> Script:
        rng, c = self.rng, self.cast
        kind, prefix, site, what, plan = source
        year = self.clock.current.year
        reference = (f"{prefix}-{year}-{rng.randint(10, 99):04d}" if prefix == "INC"
                     else f"{prefix}-{year}-{rng.randint(1, 12):02d}")
        originator = c.it_security if kind == "security_incident" else c.qa_reviewer
        cyber = kind == "security_incident" or "OT" in plan.title or "TLS" in plan.title
        owner = rng.choice(self._workers(site, cyber))
        capa = capa_services.capa_create(
            actor=originator, site=c.sites[site], title=plan.title, owner=owner, source=kind,
            source_reference=reference, description=f"{what} {reference}.",
            problem_statement=plan.problem, due_date=self.in_days(60, 100),
            cyber_related=cyber, event_at=self.clock.current - dt.timedelta(hours=6),
        )
        self.made["capa"] += 1
        if draft:
            return  # the plan is still being written
        yield self.later(0.5, 3)
        yield from self.capa(capa, plan, self._values(site), started=True)

    def _capa_fate(self, capa: Capa) -> str:
        age = self.end - self.clock.current
        fates = self.capa_fates
        if dt.timedelta(days=100) < age < dt.timedelta(days=330) and fates["stalled"] < 5 and (
                self.rng.random() < 0.5):
            fate = "stalled"
        elif age > dt.timedelta(days=60) and fates["cancelled"] < 2 and capa.pk % 12 == 5:
            # By the CAPA's own number, not a running count other scripts also move.
            fate = "cancelled"
        elif age > dt.timedelta(days=150) and fates["failed"] < 3 and (
                fates["failed"] == 0 or self.rng.random() < 0.15):
            fate = "failed"  # the first old enough always fails once: the demo shows a reopen
        elif age > dt.timedelta(days=90) and fates["extended"] < 2 and self.rng.random() < 0.15:
            fate = "extended"
        else:
            fate = "normal"
        fates[fate] += 1
        return fate

    def capa(self, capa: Capa, plan: content.CapaPlan, values: dict[str, str], *,
             started: bool = False) -> Script:
        """A CAPA from its draft plan to closure (or wherever its fate stops it)."""
        rng, c, svc = self.rng, self.cast, capa_services
        if not started:
            yield self.later(0.1, 1)
        fate = self._capa_fate(capa)
        stall_no = self.capa_fates["stalled"]
        owner, originator = capa.owner, capa.originator
        helpers = [p for p in (c.author, c.process_owner, c.system_owner, c.it_security)
                   if p != owner]
        actions: list[CapaAction] = []
        for kind, text in plan.actions:
            action_owner = owner if rng.random() < 0.6 else rng.choice(helpers)
            actions.append(svc.capa_action_add(
                capa, actor=originator, kind=kind, description=self._fill(text, values),
                owner=action_owner, due_date=min(capa.due_date, self.in_days(25, 75))
                if capa.due_date else self.in_days(25, 75),
            ))
        capa.refresh_from_db()
        capa_due = capa.due_date or self.in_days(60, 100)
        effectiveness_due = capa_due + dt.timedelta(days=rng.randint(14, 45))
        capa = svc.capa_update(capa, actor=originator, changes={
            "effectiveness_criteria": self._fill(plan.criteria, values),
            "effectiveness_due": effectiveness_due,
            **({"root_cause": plan.root_cause} if plan.root_cause else {}),
        })
        yield self.later(0.1, 2)
        capa = svc.capa_submit(capa, actor=originator)
        if fate == "cancelled":
            yield self.later(1, 5)
            svc.capa_cancel(capa, actor=c.qa_manager, reason=rng.choice([
                "Merged into an existing CAPA on the same root cause.",
                "Covered by the site-wide programme decided in management review.",
            ]))
            return
        approver = c.qa_reviewer if c.qa_reviewer not in (owner, originator) else c.qa_manager
        if rng.random() < 0.12:
            yield self.later(1, 4)
            capa = svc.capa_return_plan(capa, actor=approver, reason="Make the effectiveness "
                                 "criteria measurable: name the data and the period.")
            yield self.later(1, 3)
            capa = svc.capa_update(capa, actor=originator, changes={
                "effectiveness_criteria": capa.effectiveness_criteria
                + " Data source and review period named in the plan."})
            yield self.later(0.1, 1)
            capa = svc.capa_submit(capa, actor=originator)
        yield self.later(1, 6)
        capa = svc.capa_approve_plan(capa, actor=approver, signature=self.sign(approver))
        if rng.random() < 0.25:
            yield self.later(2, 10)
            parts.comment_add(capa, actor=rng.choice([owner, c.qa_reviewer]), body=rng.choice([
                "Kick-off held with the action owners; dates confirmed.",
                "Budget for the preventive action approved by site management.",
                "Vendor quote received; purchase order raised.",
            ]))
        # Actions are finished around their due dates, some a little late.
        approved_at = self.clock.current
        todo = []
        for action in actions:
            due_at = dt.datetime.combine(action.due_date, dt.time(12), tzinfo=dt.UTC)
            span = max((due_at - approved_at).total_seconds(), 86400.0)
            todo.append((approved_at + dt.timedelta(seconds=span * rng.uniform(0.4, 1.15)),
                         action))
        todo.sort(key=lambda pair: pair[0])
        if fate == "extended":
            yield self.later(5, 15)
            ext = parts.extension_request(
                capa, actor=owner, requested_due=capa_due + dt.timedelta(days=30),
                justification="The equipment supplier postponed the delivery by a month.")
            yield self.later(0.5, 3)
            decider = c.process_owner if owner != c.process_owner else c.qa_manager
            parts.extension_decide(ext, actor=decider, approve=True,
                                   note="Risk accepted: interim controls are in place.")
        for n_done, (when, action) in enumerate(todo):
            if fate == "stalled" and n_done >= len(todo) - 1 - (stall_no % 2):
                if stall_no == 2:
                    yield self.later(10, 20)
                    parts.extension_request(
                        capa, actor=owner, requested_due=capa_due + dt.timedelta(days=45),
                        justification="The action owner was on long leave; work resumes "
                                      "next month.")
                return  # the remaining actions are still open, past their due dates
            yield self.office(when)
            who = action.owner if rng.random() < 0.8 else owner
            svc.capa_action_complete(action, actor=who, evidence=rng.choice([
                f"Work order WO-{rng.randint(20000, 29999)} closed; report attached to it.",
                f"Document revised and effective (training records TR-{rng.randint(1000, 9999)}).",
                "Configuration verified by the system owner; screenshots in the validation file.",
            ]))
        yield self.later(0.2, 3)
        capa = svc.capa_complete_implementation(capa, actor=owner)
        verifier = c.qa_reviewer if c.qa_reviewer != owner else c.qa_manager
        yield self.later(8, 25)
        if fate == "failed":
            capa = svc.capa_effectiveness_record(
                capa, actor=verifier, result="failed", signature=self.sign(verifier),
                evidence="The problem recurred during the monitoring period (see linked "
                         "records); the criteria are not met.")
            yield self.later(1, 3)
            capa = svc.capa_reopen(capa, actor=c.qa_manager,
                            reason="Effectiveness check failed: an additional action is needed.")
            yield self.later(0.5, 3)
            extra = svc.capa_action_add(
                capa, actor=owner, kind="corrective", owner=owner, due_date=self.in_days(15, 30),
                description="Additional action after the failed effectiveness check: extend "
                            "the fix to the remaining equipment and retrain the shift teams.")
            yield self.later(10, 25)
            svc.capa_action_complete(extra, actor=owner,
                                     evidence="Remaining equipment fixed; training records "
                                              "complete.")
            yield self.later(0.2, 2)
            capa = svc.capa_complete_implementation(capa, actor=owner)
            yield self.later(10, 25)
        capa = svc.capa_effectiveness_record(
            capa, actor=verifier, result="passed", signature=self.sign(verifier),
            evidence=rng.choice([
                "Monitoring data of the period reviewed: criteria met, no recurrence.",
                "Trend report reviewed with the process owner; criteria met.",
                "Access review and configuration checks of the period show no finding.",
            ]))
        yield self.later(0.5, 5)
        svc.capa_close(capa, actor=c.qa_manager, signature=self.sign(c.qa_manager),
                       reason="Effective; closed.")

    def change(self, i: int, n: int, t: content.ChangeTemplate) -> Script:
        rng, c, svc = self.rng, self.cast, change_services
        values = self._values(t.site)
        cyber = bool(t.cyber)
        originators = [c.author, c.process_owner, c.system_owner]
        if not cyber and t.change_type in ("computerized_system", "software"):
            originators.append(c.it_security)
        originator = rng.choice(originators)
        owner = originator if rng.random() < 0.6 else rng.choice(originators)
        fate = "normal"
        if i == round(n * 0.2):
            fate = "cancelled"
        elif i == round(n * 0.55):
            fate = "returned"
        elif i == round(n * 0.7):
            fate = "stalled"
        elif i == n - 1 and n > 3:
            fate = "draft"
        planned = self.in_days(20, 50)
        ratings = [rng.randint(1, 5) for _ in range(3)]
        cyber_answers: dict[str, Any] = dict.fromkeys(t.cyber, True)
        change = svc.change_create(
            actor=originator, site=c.sites[t.site], title=self._fill(t.title, values),
            change_type=t.change_type, justification=t.justification, owner=owner,
            description=self._fill(t.description, values), scope=self._fill(t.scope, values),
            product_quality_impact=t.quality, validation_impact=t.validation,
            revalidation_required=t.revalidation, regulatory_impact=t.regulatory,
            regulatory_filing_required=t.filing, cyber_assessment=t.cyber_assessment,
            severity=ratings[0], probability=ratings[1], detectability=ratings[2],
            planned_implementation_date=planned,
            due_date=planned + dt.timedelta(days=rng.randint(30, 60)),
            **cyber_answers,
        )
        self.made["change"] += 1
        if fate == "draft":
            return  # still being assessed by the originator
        yield self.later(0.5, 6)
        CHANGE_WORKFLOW.run(change, "submit", actor=originator)
        if cyber:
            yield self.later(0.5, 3)
            parts.comment_add(change, actor=c.it_security, body=rng.choice([
                "Please list the firewall rules and service accounts in the design.",
                "The new accounts go into the quarterly access review; add them to the list.",
                "Threat model reviewed; residual risk acceptable with MFA.",
            ]))
        if fate == "cancelled":
            yield self.later(3, 10)
            CHANGE_WORKFLOW.run(change, "cancel", actor=c.qa_manager,
                              reason="Business case withdrawn by site management.")
            return
        if fate == "returned":
            yield self.later(2, 5)
            CHANGE_WORKFLOW.run(change, "return", actor=c.qa_reviewer,
                              reason="Name the test protocols in the validation impact.")
            yield self.later(1, 4)
            svc.change_update(change, actor=originator, changes={
                "validation_impact": f"{t.validation} Protocols: IQ-{rng.randint(100, 999)}, "
                                     f"OQ-{rng.randint(100, 999)}."})
            yield self.later(0.1, 2)
            CHANGE_WORKFLOW.run(change, "submit", actor=originator)
        yield self.later(2, 7)
        CHANGE_WORKFLOW.run(change, "qa_approve", actor=c.qa_reviewer,
                            signature=self.sign(c.qa_reviewer))
        yield self.later(0.5, 5)
        if change.cyber_impact:
            CHANGE_WORKFLOW.run(change, "security_approve", actor=c.it_security,
                                        signature=self.sign(c.it_security))
        else:
            CHANGE_WORKFLOW.run(change, "release", actor=c.qa_reviewer)
        tasks = []
        for text in t.tasks:
            task_owner = owner if rng.random() < 0.7 else rng.choice(originators)
            task_due = planned + dt.timedelta(days=rng.randint(5, 30))
            if change.due_date:
                task_due = min(change.due_date, task_due)
            tasks.append(svc.change_task_add(
                change, actor=owner, description=text, owner=task_owner,
                due_date=max(self.today(), task_due),
            ))
        planned_at = dt.datetime.combine(planned, dt.time(8), tzinfo=dt.UTC)
        yield self.office(max(planned_at, self.clock.current + dt.timedelta(hours=2)))
        CHANGE_WORKFLOW.run(change, "start_implementation", actor=owner)
        for n_done, task in enumerate(tasks):
            if fate == "stalled" and n_done == len(tasks) - 1:
                return  # the last task is still open, past its due date
            yield self.later(2, 12)
            svc.change_task_complete(task, actor=task.owner, note="Done as planned.")
        yield self.later(0.2, 3)
        CHANGE_WORKFLOW.run(change, "complete_implementation", actor=owner)
        yield self.later(7, 21)
        svc.change_update(change, actor=c.qa_reviewer, reason="Post-implementation review",
                          changes={"post_implementation_review": rng.choice([
                              "Implemented as approved; qualification passed; no deviation "
                              "since.",
                              "Objectives met; documents updated and training complete.",
                          ]), "pir_outcome": PirOutcome.EFFECTIVE})
        yield self.later(0.5, 4)
        CHANGE_WORKFLOW.run(change, "close", actor=c.qa_manager, signature=self.sign(c.qa_manager))


# --- evidence files ---------------------------------------------------------------------------


def evidence_file(kind: str, values: dict[str, str], when: dt.datetime,
                  rng: random.Random) -> bytes:
    """A small, plausible evidence file (CSV, text or JSON) for an attachment."""
    if kind == "temperature":
        rows = ["timestamp_utc,probe,temperature_c"]
        t = when - dt.timedelta(days=2)
        for k in range(96):
            spike = 1.9 if 40 <= k < 44 else 0.0
            rows.append(f"{(t + dt.timedelta(minutes=15 * k)):%Y-%m-%dT%H:%M:%SZ},"
                        f"CR{values['room']}-P1,{5.0 + rng.uniform(-0.6, 0.6) + spike * 2.2:.2f}")
        return ("\n".join(rows) + "\n").encode()
    if kind == "sessions":
        rows = ["signed_in_utc,account,workstation,source_ip"]
        for k in range(12):
            rows.append(f"{(when - dt.timedelta(hours=30 - k * 2)):%Y-%m-%dT%H:%M:%SZ},qc_lab,"
                        f"QC-WS-{rng.randint(10, 40)},10.20.{rng.randint(1, 9)}."
                        f"{rng.randint(10, 250)}")
        return ("\n".join(rows) + "\n").encode()
    if kind == "edr":
        return (f'{{"alert": "{values["ref"]}", "host": "ENG-WS-{values["n"]}", '
                f'"detection": "Ransom:Win64/Generic", "action": "quarantined", '
                f'"detected_at": "{when:%Y-%m-%dT%H:%M:%SZ}"}}\n').encode()
    return (f"CDS configuration export, HPLC-{values['room']}\n"
            f"exported: {when:%Y-%m-%d %H:%M} UTC\n"
            "AuditTrail.Enabled = False   (changed by svc_vendor during patch 7.4.2)\n"
            "AuditTrail.ReasonForChange = Required\n").encode()


# --- the summary ------------------------------------------------------------------------------


def summarize() -> Summary:
    """Counts of what is in the database now (by kind and state, overdue, cyber)."""
    s = Summary()
    today = timezone.localdate()
    for kind in registered_kinds():
        if kind.grants != "quality":
            continue
        label, model, closed = kind.plural_label, kind.model, kind.closed_states
        live = model._default_manager.filter(is_deleted=False)
        states = model.STATES.choices if model.STATES else [(s, s) for s in kind.workflow.states()]
        for state, state_label in states:
            count = live.filter(state=state).count()
            if count:
                s.rows.append((label, str(state_label), count))
        deleted = model._default_manager.filter(is_deleted=True).count()
        if deleted:
            s.rows.append((label, "Deleted (logically)", deleted))
        s.overdue[label] = live.exclude(state__in=closed).filter(due_date__lt=today).count()
        flag = "cyber_impact" if model is Change else "cyber_related"
        if any(f.name == flag for f in model._meta.fields):
            s.cyber[label] = live.filter(**{flag: True}).count()
    s.overdue["CAPA actions"] = CapaAction.objects.filter(
        state="open", due_date__lt=today, capa__is_deleted=False).count()
    s.signatures = Signature.objects.count()
    s.audit_entries = AuditEntry.objects.count()
    return s


def records_loaded() -> bool:
    return Deviation.objects.exists() or Capa.objects.exists() or Change.objects.exists()
