"""Authorization-matrix rows for the incident's own pages, and who the kit's pages and API
serve for incidents (IT security runs them; QA and auditors read them)."""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import Expect

INCIDENT_VIEWERS = frozenset({"qa_manager", "qa_approver", "it_security", "auditor"})
INCIDENT_WORKERS = frozenset({"it_security"})
# The kit's rows for this family: viewers (list, detail) and workers (create, edit).
KIT_ROLES = (INCIDENT_VIEWERS, INCIDENT_WORKERS)

EXPECTATIONS: dict[str, Expect] = {
    # a missing incident answers 404 to those the gate lets through
    "incidents:chain": Expect(INCIDENT_VIEWERS, ok=404, kwargs={"pk": 999999}),
    # POST-only pages answer GET with 405 once the gate let the request through
    "incidents:open_deviation": Expect(INCIDENT_WORKERS, ok=405, kwargs={"pk": 999999}),
    "incidents:from_alert": Expect(INCIDENT_WORKERS, ok=405, kwargs={"alert_id": 999999}),
    # the gate lets incident workers through; a missing alert then answers 404
    "api:incident_from_alert": Expect(INCIDENT_WORKERS, ok=404, anonymous=401, method="post",
                                      kwargs={"alert_id": 999999}, body={}),
}
