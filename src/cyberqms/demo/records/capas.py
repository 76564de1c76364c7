"""The CAPA scripts: CAPAs from audits, incidents and complaints, and every CAPA from its
draft plan to closure (or wherever its fate stops it)."""

from __future__ import annotations

import datetime as dt

from cyberqms.platform.kit import record_parts as parts
from cyberqms.quality.capa import services as capa_services
from cyberqms.quality.capa.models import Capa, CapaAction
from cyberqms.quality.capa.workflow import CAPA_WORKFLOW

from .. import content
from .base import LoaderBase
from .clock import Script


class CapaScripts(LoaderBase):
    """The CAPA scripts of the loader."""

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
        self.capa_order[capa.pk] = self.made["capa"]
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
        elif age > dt.timedelta(days=60) and fates["cancelled"] < 2 and self.capa_order.get(
                capa.pk, capa.pk) % 12 == 5:
            # By the CAPA's own place in the order it was made, not a running count other
            # scripts also move, nor its id (another family's demo makes CAPAs too).
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
        capa = CAPA_WORKFLOW.run(capa, "submit", actor=originator)
        if fate == "cancelled":
            yield self.later(1, 5)
            CAPA_WORKFLOW.run(capa, "cancel", actor=c.qa_manager, reason=rng.choice([
                "Merged into an existing CAPA on the same root cause.",
                "Covered by the site-wide programme decided in management review.",
            ]))
            return
        approver = c.qa_reviewer if c.qa_reviewer not in (owner, originator) else c.qa_manager
        if rng.random() < 0.12:
            yield self.later(1, 4)
            capa = CAPA_WORKFLOW.run(capa, "return_plan", actor=approver, reason=(
                "Make the effectiveness criteria measurable: name the data and the period."))
            yield self.later(1, 3)
            capa = svc.capa_update(capa, actor=originator, changes={
                "effectiveness_criteria": capa.effectiveness_criteria
                + " Data source and review period named in the plan."})
            yield self.later(0.1, 1)
            capa = CAPA_WORKFLOW.run(capa, "submit", actor=originator)
        yield self.later(1, 6)
        capa = CAPA_WORKFLOW.run(capa, "approve_plan", actor=approver,
                                 signature=self.sign(approver))
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
        capa = CAPA_WORKFLOW.run(capa, "complete_implementation", actor=owner)
        verifier = c.qa_reviewer if c.qa_reviewer != owner else c.qa_manager
        yield self.later(8, 25)
        if fate == "failed":
            capa = svc.capa_effectiveness_record(
                capa, actor=verifier, result="failed", signature=self.sign(verifier),
                evidence="The problem recurred during the monitoring period (see linked "
                         "records); the criteria are not met.")
            yield self.later(1, 3)
            capa = CAPA_WORKFLOW.run(
                capa, "reopen", actor=c.qa_manager,
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
            capa = CAPA_WORKFLOW.run(capa, "complete_implementation", actor=owner)
            yield self.later(10, 25)
        capa = svc.capa_effectiveness_record(
            capa, actor=verifier, result="passed", signature=self.sign(verifier),
            evidence=rng.choice([
                "Monitoring data of the period reviewed: criteria met, no recurrence.",
                "Trend report reviewed with the process owner; criteria met.",
                "Access review and configuration checks of the period show no finding.",
            ]))
        yield self.later(0.5, 5)
        CAPA_WORKFLOW.run(capa, "close", actor=c.qa_manager, signature=self.sign(c.qa_manager),
                          reason="Effective; closed.")
