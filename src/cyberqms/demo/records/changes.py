"""The change-control script: a change from its assessment to closure (or wherever its
fate stops it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cyberqms.platform.kit import record_parts as parts
from cyberqms.quality.changes import services as change_services
from cyberqms.quality.changes.enums import PirOutcome
from cyberqms.quality.changes.workflow import CHANGE_WORKFLOW

from .. import content
from .base import LoaderBase
from .clock import Script

# Changes whose template touches a system of the inventory (assets.systems.demo): the change
# names it ("Affects"), so approving the change puts the validated system under change.
AFFECTED_SYSTEMS = {
    "MES upgrade to PAS-X 3.3 SP2": ("DUB", "Werum PAS-X MES Dublin"),
    "New remote access for the SCADA vendor": ("DUB", "SCADA Line 2 (WinCC)"),
    "Firewall rule for historian replication to the corporate data lake":
        ("BSL", "OT firewall Basel"),
    "Windows 11 rollout on QC instrument PCs": ("BSL", "Empower chromatography data system"),
    "New temperature-mapping system for the warehouse":
        ("BSL", "viewLinc environmental monitoring"),
    "New LIMS interface to the MES for electronic release": ("BSL", "LabWare LIMS"),
}


def _affected(template: content.ChangeTemplate) -> Any:
    from cyberqms.assets.systems.models import System

    found = AFFECTED_SYSTEMS.get(template.title)
    if found is None:
        return None
    return System.objects.filter(site__code=found[0], title=found[1], is_deleted=False).exclude(
        state="retired").first()


class ChangeScripts(LoaderBase):
    """The change-control script of the loader."""

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
        system = _affected(t)
        if system is not None:
            parts.link_create(change, system, actor=originator, relation="affects",
                              note="The change touches this system.")
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
