"""The deviation script: a deviation from its report to closure, with the CAPA it may
spawn (or wherever its fate stops it); a cyber-related one names the security incident
opened for the same event."""

from __future__ import annotations

import datetime as dt

from cyberqms.platform.core.access import can
from cyberqms.platform.kit import record_parts as parts
from cyberqms.quality.deviations import services as deviation_services
from cyberqms.quality.deviations.workflow import DEVIATION_WORKFLOW

from .. import content
from .capas import CapaScripts
from .clock import Script
from .evidence import evidence_file
from .incidents import IncidentScripts


class DeviationScripts(CapaScripts, IncidentScripts):
    """The deviation script of the loader (its CAPAs run as CAPA scripts)."""

    def deviation(self, i: int, n: int, t: content.DeviationTemplate) -> Script:
        rng, c = self.rng, self.cast
        svc = deviation_services
        values = self._values(t.site)
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
        incident = None
        if t.cyber is not None:
            incident = self.security_incident(t, values, event_at, late_reason)
            values["ref"] = incident.number
        # The originator names the incident if they may see it; otherwise IT security, who
        # opened it, names it on the draft straight away.
        names = incident is not None and can(originator, "incidents.view", incident)
        d = svc.deviation_create(
            actor=originator, site=c.sites[t.site], owner=owner,
            title=self._fill(t.title, values), description=self._fill(t.description, values),
            event_at=event_at, late_entry_reason=late_reason, due_date=due,
            classification=classification, department=c.department(t.site, t.dept),
            area=self._fill(t.area, values), product_reference=self._fill(t.product, values),
            gxp_impact=bool(t.gxp), gxp_impact_text=self._fill(t.gxp, values),
            data_integrity_impact=bool(t.di), data_integrity_impact_text=self._fill(t.di, values),
            cyber_related=bool(t.cyber), security_reference=values["ref"] if names else "",
            immediate_actions=self._fill(t.immediate, values),
        )
        if incident is not None and not names:
            d = svc.deviation_update(d, actor=c.it_security,
                                     changes={"security_reference": incident.number})
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
        # QA triages, never the person who raised it (segregation of duties).
        triager = c.qa_manager if originator == c.qa_reviewer else c.qa_reviewer
        d = DEVIATION_WORKFLOW.run(d, "triage", actor=triager)
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
            self.capa_order[capa.pk] = self.made["capa"]
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
        self.trained(approver)  # what the page would send them to read first
        d = DEVIATION_WORKFLOW.run(d, "approve", actor=approver, signature=self.sign(approver))
        yield self.later(0.5, 5)
        DEVIATION_WORKFLOW.run(d, "close", actor=c.qa_manager, signature=self.sign(c.qa_manager),
                            reason="Investigation complete; CAPA raised where required.")
