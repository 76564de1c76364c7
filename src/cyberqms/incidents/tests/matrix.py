"""Authorization-matrix rows for the security-incident pages."""

from __future__ import annotations

from cyberqms.core.tests.matrix import Expect

INCIDENT_VIEWERS = frozenset({"qa_manager", "qa_approver", "it_security", "auditor"})
INCIDENT_WORKERS = frozenset({"it_security"})

EXPECTATIONS: dict[str, Expect] = {
    "incidents:list": Expect(INCIDENT_VIEWERS),
    # a missing incident answers 404 to those the gate lets through
    "incidents:detail": Expect(INCIDENT_VIEWERS, ok=404, kwargs={"pk": 999999}),
    "incidents:chain": Expect(INCIDENT_VIEWERS, ok=404, kwargs={"pk": 999999}),
    # POST-only pages answer GET with 405 once the gate let the request through
    "incidents:edit": Expect(INCIDENT_WORKERS, ok=405, kwargs={"pk": 999999}),
    "incidents:open_deviation": Expect(INCIDENT_WORKERS, ok=405, kwargs={"pk": 999999}),
    "incidents:from_alert": Expect(INCIDENT_WORKERS, ok=405, kwargs={"alert_id": 999999}),
}
