"""Quality records for the big-site generator (`bigsite.py`): created over the period and
walked along their workflow tables, every step of every record in one time order, with the
rows and audit entries the services would have written."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from dataclasses import dataclass
from typing import Any

from bigsite import (
    ENTRY_CHUNK,
    PRIVILEGED,
    Cast,
    Person,
    Writer,
    bare,
    childless,
    correlation,
    moment,
    session_of,
)

# A record's course: days between steps (on average), the share cancelled, the share that
# stalls on the way (open and overdue for good).
STEP_DAYS = 8
CANCELLED = 0.06
STALLED = 0.05
FAMILY_MIX = {"deviations": 40, "capa": 20, "changes": 18, "complaints": 14, "incidents": 8}
TITLES = {
    "deviations": ("Temperature excursion in cold room {n}", "Label mix-up on line {n}",
                   "Missed cleaning step in suite {n}", "Pressure drop in isolator {n}",
                   "Out-of-specification pH in batch {b}", "Filter integrity failure on {b}"),
    "capa": ("Retrain operators on line clearance (line {n})", "Replace sensor in freezer {n}",
             "Revise SOP-{n:04d} for gowning", "Add second check to label printing {n}"),
    "changes": ("Upgrade LIMS to release 8.{n}", "New supplier for vial stoppers ({n})",
                "Relocate autoclave {n}", "Change HMI recipe for line {n}"),
    "complaints": ("Cracked vial reported by pharmacy ({b})", "Discoloured tablets in {b}",
                   "Leaking blister pack from {b}", "Missing leaflet in carton {b}"),
    "incidents": ("Phishing e-mail opened on PC-{n:04d}", "Malware blocked on HMI-{n:02d}",
                  "Unknown USB device on line {n}", "Repeated failed sign-ins on LIMS {n}"),
}
SENTENCES = (
    "Logger showed 9.4 °C for 40 minutes during the night shift.",
    "The operator noticed the discrepancy during the second check and stopped the line.",
    "Batch records were reviewed; no other batch was affected.",
    "Root cause confirmed by interview and by the equipment log.",
    "Training records updated; effectiveness to be checked after three months.",
    "QA agrees with the assessment and the proposed actions.",
    "Supplier confirmed the deviation in their own investigation.",
    "Impact on product quality is assessed as low; the batch stays on hold until review.",
    "Change assessed by validation: IQ/OQ to be repeated for the affected module.",
    "IT security isolated the workstation and collected the logs.",
)
REASONS = ("Corrected after QA review", "Investigation findings added",
           "Due date agreed with the owner", "Clarified after the review meeting",
           "Typo in the description", "More detail requested by QA")


@dataclass
class Step:
    """One thing that happens to a record: create, edit, update, a transition, a comment."""

    what: str
    transition: Any = None
    entries: int = 1  # a signed transition writes two (the signature's and its own)


@dataclass
class Family:
    """What the generator needs of a record family: its kind, paths and text fields."""

    kind: Any
    spec: Any
    paths: list[list[Any]]  # transitions from the first state to each closed state
    texts: dict[str, list[str]]  # state -> its editable free-text fields
    choices: dict[str, list[Any]]  # choice fields (not the state) -> values

    @staticmethod
    def of(kind: Any) -> Family:
        from django.db import models

        from cyberqms.platform.trail.registry import audited

        model = kind.model
        texts: dict[str, list[str]] = {}
        for state, names in kind.editable.items():
            texts[state] = sorted(
                n for n in names
                if isinstance(model._meta.get_field(n), models.TextField))
        choices = {f.attname: [value for value, _ in f.flatchoices]
                   for f in model._meta.concrete_fields
                   if f.choices and f.attname != "state" and not f.has_default()}
        # A cybersecurity root cause needs a cyber-related record and its reference.
        if "root_cause_category" in choices:
            choices["root_cause_category"].remove("cybersecurity")
        return Family(kind, audited(model), [
            path for path in (_path(kind.workflow, kind.initial_state, end)
                              for end in kind.closed_states) if path is not None],
            texts, choices)


def _path(workflow: Any, source: str, target: str) -> list[Any] | None:
    """The shortest walk of the workflow table from `source` to `target`."""
    frontier: list[tuple[str, list[Any]]] = [(source, [])]
    seen = {source}
    while frontier:
        state, walked = frontier.pop(0)
        if state == target:
            return walked
        for t in workflow.actions_from(state):
            if t.target not in seen:
                seen.add(t.target)
                frontier.append((t.target, [*walked, t]))
    return None


def _needs_a_record(kind: Any) -> bool:
    """Whether the family's model has a required foreign key to another record family."""
    from django.db import models

    from cyberqms.platform.kit.records import QualityRecord

    return any(isinstance(f, models.ForeignKey) and not f.null and isinstance(
        f.related_model, type) and issubclass(f.related_model, QualityRecord)
        for f in kind.model._meta.concrete_fields)


def _role_for(transition: Any) -> str:
    """Who takes a step, by the permission it needs (segregation of duties holds: QA never
    originates or owns a record here)."""
    action = transition.permission.rsplit(".", 1)[-1]
    return {"submit": "originator", "work": "owner", "review": "qa_reviewer",
            "approve": "qa_reviewer", "security_approve": "it_security"}.get(action,
                                                                             "qa_manager")


@dataclass
class Record:
    """A record being lived: its row, its audited state after the last step, its people."""

    family: Family
    obj: Any
    state: dict[str, Any]
    originator: Person
    owner: Person
    steps_left: int = 0


class Records:
    """Records created over the period and walked through their workflows, every step of
    every record in one time order (a heap), as the services would have written them."""

    def __init__(self, cast: Cast, writer: Writer, rng: random.Random) -> None:
        from cyberqms.platform.core.models import Comment, NumberSequence, Signature
        from cyberqms.platform.kit.records import registered_kinds
        from cyberqms.platform.trail.registry import audited

        self.cast = cast
        self.writer = writer
        self.rng = rng
        # Families that number their records themselves (documents: a document row behind
        # each version, numbered per type and department) are left out: a site has a few
        # thousand documents, not the millions of records this generator is for.
        # So are families whose records need another record (the system a periodic
        # evaluation is of): a site has dozens of those.
        self.families = [Family.of(kind) for kind in registered_kinds()
                         if kind.numbering is None and not _needs_a_record(kind)]
        self.weights = [FAMILY_MIX.get(f.kind.slug, 10) for f in self.families]
        self.comment_spec = audited(Comment)
        self.signature_spec = audited(Signature)
        self.numbers = {(n.prefix, n.year): n.last for n in NumberSequence.objects.all()}
        self.heap: list[tuple[float, int, Record, Step]] = []
        self.order = itertools.count()
        self.sites = [s.pk for s in cast.sites
                      if cast.by_role.get(("author", s.pk)) or s is cast.sites[0]]

    # --- planning ---

    def plan(self, family: Family, started: float, end: float, budget: int) -> list[
            tuple[float, Step]]:
        """The steps of one record from `started`: its natural course cut at the period's
        end, then cut or padded with comments to exactly `budget` entries."""
        rng = self.rng
        steps: list[tuple[float, Step]] = [(started, Step("create"))]
        at = started
        for _ in range(rng.choice((0, 0, 1, 2))):
            at += rng.uniform(600, 6 * 3600)
            steps.append((at, Step("edit")))
        path = family.paths[-1] if rng.random() < CANCELLED and len(family.paths) > 1 else (
            family.paths[0] if family.paths else [])
        if rng.random() < STALLED:  # left where it is: the overdue backlog
            path = path[:rng.randrange(len(path))]
        for transition in path:
            at += min(rng.expovariate(1 / STEP_DAYS / 86_400), 8 * STEP_DAYS * 86_400) + 300
            if rng.random() < 0.2 and family.texts.get(transition.sources[0]):
                steps.append((at - rng.uniform(60, 3600), Step("update")))
            if rng.random() < 0.3:
                steps.append((at - rng.uniform(60, 7200), Step("comment")))
            steps.append((at, Step("transition", transition, 2 if transition.sign else 1)))
        steps = [(t, s) for t, s in steps if t < end]
        steps.sort(key=lambda pair: pair[0])
        # Over budget: the remarks go first (comments, edits, updates), the latest first, so
        # that the record's course (its state) is cut last.
        excess = sum(s.entries for _, s in steps) - budget
        for i in range(len(steps) - 1, 0, -1):
            if excess <= 0:
                break
            if steps[i][1].what in ("comment", "edit", "update"):
                del steps[i]
                excess -= 1
        kept: list[tuple[float, Step]] = []
        used = 0
        for t, s in steps:
            if used + s.entries > budget:
                break
            kept.append((t, s))
            used += s.entries
        if used < budget:
            last = kept[-1][0]
            until = min(max(last, started) + 14 * 86_400, end)
            closed = kept[-1][1].what == "transition" and kept[-1][1].transition.target in (
                family.kind.closed_states)
            if closed:  # a closed record takes no comments: they come before its closure
                until = last
            extra = sorted(rng.uniform(started, until) for _ in range(budget - used))
            kept += [(max(t, started + 1e-3), Step("comment")) for t in extra]
            kept.sort(key=lambda pair: pair[0])
        return kept

    def add(self, count: int, budget: int, start: dt.datetime, end: dt.datetime) -> None:
        """`count` records created between `start` and `end`, with `budget` entries."""
        from cyberqms.platform.core.models import NumberSequence

        if count <= 0:
            return
        if budget < count:
            raise SystemExit(f"bigsite: {count:,} records need at least {count:,} audit "
                             f"entries; only {budget:,} are left of --entries")
        with self.writer.progress.phase("records") as began:
            self._add(count, budget, start, end, began)
        for (prefix, year), number in self.numbers.items():
            NumberSequence.objects.update_or_create(prefix=prefix, year=year,
                                                    defaults={"last": number})

    def _add(self, count: int, budget: int, start: dt.datetime, end: dt.datetime,
             began: float) -> None:
        rng = self.rng
        first, last = start.timestamp(), end.timestamp()
        created = sorted(rng.uniform(first, last) for _ in range(count))
        left = budget
        for i, started in enumerate(created):
            while self.heap and self.heap[0][0] <= started:
                self._take(*heapq.heappop(self.heap))
            share = -(-left // (count - i))  # ceil: the last record takes what is left
            left -= share
            family = rng.choices(self.families, self.weights)[0]
            record = self._new(family, started)
            steps = self.plan(family, started, last, share)
            record.steps_left = len(steps)
            for t, step in steps:
                heapq.heappush(self.heap, (t, next(self.order), record, step))
            if len(self.writer.entries) >= ENTRY_CHUNK:
                self.writer.flush()
            self.writer.progress.note("records", i + 1, count, began)
        while self.heap:
            self._take(*heapq.heappop(self.heap))
        self.writer.flush()

    # --- living ---

    def _new(self, family: Family, started: float) -> Record:
        rng = self.rng
        kind = family.kind
        site_id = rng.choice(self.sites)
        security = kind.slug == "incidents"
        originator = self.cast.pick(rng, "it_security" if security else "author", site_id)
        owner = self.cast.pick(rng, "it_security" if security else "process_owner", site_id)
        values: dict[str, Any] = {}
        for name, options in family.choices.items():
            values[name] = rng.choice(options)
        n = rng.randrange(1, 40)
        batch = f"{'DS' if n % 2 else 'FF'}-26-{rng.randrange(400, 1400):04d}"
        title = rng.choice(TITLES.get(kind.slug, TITLES["deviations"])).format(n=n, b=batch)
        obj = childless(kind.model(
            pk=self.writer.next_id(kind.model), title=title, description=rng.choice(SENTENCES),
            site_id=site_id, owner_id=owner.user.pk, originator_id=originator.user.pk,
            state=kind.initial_state, **values))
        for name in ("product_reference", "area"):
            if hasattr(obj, name):
                setattr(obj, name, batch if name == "product_reference" else f"Suite {n}")
        return Record(family, obj, {}, originator, owner)

    def _actor(self, record: Record, step: Step) -> Person:
        if step.what in ("create", "edit"):
            return record.originator
        if step.what == "update":
            return record.owner
        if step.what == "comment":
            return self.rng.choice((record.originator, record.owner, self.cast.pick(
                self.rng, "qa_reviewer", record.obj.site_id)))
        role = _role_for(step.transition)
        if role == "originator":
            return record.originator
        if role == "owner":
            return record.owner
        return self.cast.pick(self.rng, role, record.obj.site_id)

    def _take(self, at_s: float, _order: int, record: Record, step: Step) -> None:
        from cyberqms.platform.trail.registry import diff, state_hash

        rng, writer = self.rng, self.writer
        family, obj = record.family, record.obj
        kind, spec = family.kind, family.spec
        at = moment(at_s)
        person = self._actor(record, step)
        context = {"actor": person.user, "correlation": correlation(rng), "source": person.ip,
                   "session": session_of(person.user.pk, int(at_s // 86_400))}
        before = record.state
        reason = None
        signature = None
        if step.what == "create":
            obj.created_at = obj.updated_at = at
            obj.event_at = at - dt.timedelta(hours=rng.uniform(0.2, 6))
            obj.due_date = (at + dt.timedelta(days=30)).date()
            key = (kind.prefix, at.year)
            self.numbers[key] = self.numbers.get(key, 0) + 1
            obj.number = f"{kind.prefix}-{at.year}-{self.numbers[key]:04d}"
            action = f"{kind.type_name}.create"
        elif step.what == "comment":
            self._comment(record, at, context)
            self._done(record)
            return
        elif step.what in ("edit", "update"):
            names = family.texts.get(obj.state) or ["description"]
            name = rng.choice(names)
            setattr(obj, name, f"{getattr(obj, name)} {rng.choice(SENTENCES)}".strip()[:2000])
            obj.updated_at = at
            action = f"{kind.type_name}.{'edit' if obj.state == kind.initial_state else 'update'}"
            reason = rng.choice(REASONS) if action.endswith(".update") else None
        else:
            t = step.transition
            obj.state = t.target
            for name, value in (t.updates(obj, person.user) if t.updates else {}).items():
                # A time the step sets (the closure) is the step's time.
                setattr(obj, name, at if isinstance(value, dt.datetime) else value)
            obj.updated_at = at
            action = f"{kind.type_name}.{t.action}"
            reason = rng.choice(REASONS) if t.reason else None
            if t.sign:
                signature = self._sign(record, t, at, context, reason)
        after = spec.state(obj)
        writer.entry(at, action, object_type=spec.type_name, object_id=str(obj.pk),
                     label=obj.label, changes=diff(before or None, after),
                     state=state_hash(after), reason=reason, signature=signature, **context)
        record.state = after
        self._done(record)

    def _done(self, record: Record) -> None:
        record.steps_left -= 1
        if record.steps_left == 0:
            self.writer.add(record.obj)

    def _comment(self, record: Record, at: dt.datetime, context: dict[str, Any]) -> None:
        from cyberqms.platform.core.models import Comment
        from cyberqms.platform.trail.registry import diff, state_hash

        obj = record.obj
        comment = bare(Comment, id=self.writer.next_id(Comment),
                       record_type=record.family.spec.type_name, record_id=str(obj.pk),
                       author_id=context["actor"].pk, body=self.rng.choice(SENTENCES),
                       created_at=at)
        state = self.comment_spec.state(comment)
        # The label the kit gives a comment (kit/apps.py), without its query for the number.
        self.writer.entry(at, "core.comment.add", object_type="core.comment",
                          object_id=str(comment.pk), label=f"Comment on {obj.number}",
                          changes=diff(None, state), state=state_hash(state), **context)
        self.writer.add(comment)

    def _sign(self, record: Record, t: Any, at: dt.datetime, context: dict[str, Any],
              reason: str | None) -> int:
        from cyberqms.platform.core.models import Signature
        from cyberqms.platform.trail.registry import diff, state_hash

        family, obj, signer = record.family, record.obj, context["actor"]
        action = f"{family.kind.type_name}.{t.action}"
        row = bare(
            Signature, id=self.writer.next_id(Signature), record_type=family.spec.type_name,
            record_id=str(obj.pk), record_label=obj.label[:200],
            record_hash=family.kind.workflow.hash_for(obj, action), action=action,
            meaning=t.sign, reason=(reason or "")[:1000], signer_id=signer.pk,
            printed_name=signer.full_name[:200], username=signer.username, signed_at=at,
            components="password+totp" if self.cast.by_id.get(signer.pk) and self.cast.by_id[
                signer.pk].role in PRIVILEGED else "password",
            channel="web", source_ip=context["source"], correlation_id=context["correlation"])
        state = self.signature_spec.state(row)
        self.writer.entry(at, "core.signature.create", object_type="core.signature",
                          object_id=str(row.pk), label=self.signature_spec.label(row),
                          changes=diff(None, state), state=state_hash(state), **context)
        self.writer.add(row)
        return int(row.pk)

    # --- entries without new records ---

    def comments(self, count: int, end: dt.datetime) -> None:
        """`count` comments on open records (a busy site), in time order."""
        if count <= 0:
            return
        with self.writer.progress.phase("comments") as began:
            self._comments(count, end, began)

    def _comments(self, count: int, end: dt.datetime, began: float) -> None:
        rng = self.rng
        open_records: list[tuple[Family, Any]] = []
        for family in self.families:
            rows = family.kind.open_records().order_by("-pk")[:20_000]
            open_records += [(family, row) for row in rows]
        if not open_records:
            raise SystemExit("bigsite: no open record to comment on; add records")
        last = end.timestamp()
        picks = (rng.randrange(len(open_records)) for _ in range(count))
        planned = sorted((rng.uniform(open_records[i][1].created_at.timestamp(), last), i)
                         for i in picks)
        for done, (at_s, index) in enumerate(planned, 1):
            family, row = open_records[index]
            person = self.cast.pick(rng, "qa_reviewer", row.site_id)
            record = Record(family, row, {}, person, person)
            at = moment(at_s)
            self._comment(record, at, {
                "actor": person.user, "correlation": correlation(rng), "source": person.ip,
                "session": session_of(person.user.pk, int(at_s // 86_400))})
            if len(self.writer.entries) >= ENTRY_CHUNK:
                self.writer.flush()
            self.writer.progress.note("comments", done, count, began)
        self.writer.flush()
