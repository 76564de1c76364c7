"""The security incidents behind the cyber-related deviations: IT security opens one at
the deviation's site when the event is found, about that event (its time, systems,
accounts and impact), and the deviation names it, so the two are linked both ways. The
incident then runs its course on the timeline: contained, assessed, submitted to QA and
closed with QA's signature, or wherever the end of the history stops it."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from cyberqms.platform.kit.record_services import record_create
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.security.incidents.workflow import INCIDENT_WORKFLOW

from .. import content
from .base import SEED, LoaderBase
from .clock import Script

NO_IMPACT = ("Assessed with the system owner: no GxP record, batch or result was touched by "
             "the event.")


class IncidentScripts(LoaderBase):
    """The incident scripts of the loader. Their draws come from a generator of their own,
    so the records' choices do not depend on them."""

    _incident_rng: random.Random | None = None

    @property
    def incident_rng(self) -> random.Random:
        if self._incident_rng is None:
            self._incident_rng = random.Random(f"{SEED}/incidents")  # noqa: S311  # demo data
        return self._incident_rng

    def security_incident(self, t: content.DeviationTemplate, values: dict[str, str],
                          event_at: dt.datetime, late_reason: str) -> Any:
        """Open the incident of cyber-related template `t` for the event at `event_at`
        (IT security, through the kit), and start its course."""
        story = t.cyber
        assert story is not None
        c, rng = self.cast, self.incident_rng
        impact = " ".join(self._fill(text, values) for text in (t.gxp, t.di) if text)
        window_end = min(event_at + dt.timedelta(hours=rng.uniform(0.5, 6)),
                         self.clock.current)
        incident = record_create(kind_by_slug("incidents"), actor=c.it_security,
                                 site=c.sites[t.site], values={
            "title": self._fill(story.title, values)[:200],
            "description": self._fill(story.description, values),
            "event_at": event_at, "late_entry_reason": late_reason,
            "due_date": self.today() + dt.timedelta(days=14),
            "containment": self._fill(t.immediate, values),
            "affected_systems": self._fill(story.systems, values),
            "affected_records": self._fill(story.records, values),
            "affected_batches": self._fill(t.product, values),
            "involved_accounts": self._fill(story.accounts, values),
            "window_start": event_at, "window_end": window_end,
            "gxp_impact": bool(t.gxp), "data_integrity_impact": bool(t.di),
            "impact_assessment": impact or NO_IMPACT,
        })
        self.made["incident"] += 1
        self.timeline.start(self.later(0.05, 0.5, rng), self.incident_course(incident),
                            incident.number)
        return incident

    def incident_course(self, incident: Any) -> Script:
        """Contained and assessed by IT security, closed by QA (signed) once the deviation
        it opened exists."""
        c, rng = self.cast, self.incident_rng
        incident = INCIDENT_WORKFLOW.run(incident, "assess", actor=c.it_security)
        yield self.later(1, 5, rng)
        incident = INCIDENT_WORKFLOW.run(incident, "submit", actor=c.it_security)
        yield self.later(1, 4, rng)
        INCIDENT_WORKFLOW.run(incident, "close", actor=c.qa_manager,
                              signature=self.sign(c.qa_manager),
                              reason="Containment and impact assessment sound; the quality "
                                     "impact is handled in the linked deviation.")
