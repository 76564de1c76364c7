"""The loader: schedules the scripts of every record on one timeline, runs it, and
counts what is in the database afterwards."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import time
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.utils import timezone

from cyberqms.platform.core.models import Signature
from cyberqms.platform.kit.records import registered_kinds
from cyberqms.platform.kit.signatures import commitment_accept
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.capa.models import Capa, CapaAction
from cyberqms.quality.changes.models import Change
from cyberqms.quality.deviations.models import Deviation

from .. import content
from .. import monitoring as demo_monitoring
from .base import CHANGES, DEVIATIONS, RECORDS_FROM_DAY, STANDALONE_CAPAS
from .changes import ChangeScripts
from .clock import Script
from .deviations import DeviationScripts

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


class RecordLoader(DeviationScripts, ChangeScripts):
    """Builds the scripts of every record and runs them on one timeline."""

    # --- running ------------------------------------------------------------------------------

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
        family_apps = {config.name for kind in registered_kinds()
                       if (config := apps.get_containing_app_config(kind.model.__module__))}
        for kind in registered_kinds():
            # Families on the kit bring their own demo script (<family>/demo.py).
            family_demo = kind.module("demo")
            if family_demo is not None:
                count = family_demo.schedule(self)
                self.say(f"  · scheduling {count} {kind.plural_label.lower()}")
        for config in apps.get_app_configs():
            # Apps of the product that are not record families bring theirs too (training).
            if not config.name.startswith("cyberqms.") or config.name in family_apps or (
                    config.name == "cyberqms.demo" or importlib.util.find_spec(
                        f"{config.name}.demo") is None):
                continue
            count = importlib.import_module(f"{config.name}.demo").schedule(self)
            self.say(f"  · scheduling {config.verbose_name.lower()}: {count} curricula")
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
