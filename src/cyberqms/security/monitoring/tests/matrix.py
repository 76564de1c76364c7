"""Authorization-matrix rows for the monitoring app's URLs (collected by core's matrix test).

Object URLs name an alert that does not exist: those the gate lets through get 404 (the
same answer as for one they may not see), the others 403. POST-only pages answer 405 to
the matrix's GET once the gate let the request through.
"""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import NOBODY, Expect

ALERT_VIEWERS = frozenset({"qa_manager", "it_security", "auditor"})
ALERT_TRIAGERS = frozenset({"qa_manager", "it_security"})
EVENT_VIEWERS = frozenset({"it_security", "auditor"})
SOURCE_MANAGERS = frozenset({"it_security"})
MISSING = {"pk": 999999}
API_MISSING = {"alert_id": 999999}

EXPECTATIONS: dict[str, Expect] = {
    "monitoring:overview": Expect(ALERT_VIEWERS),
    "api:monitoring_metrics": Expect(ALERT_VIEWERS, anonymous=401),
    "monitoring:alerts": Expect(ALERT_VIEWERS),
    "monitoring:alert": Expect(ALERT_VIEWERS, ok=404, kwargs=MISSING),
    "monitoring:alert_transition": Expect(ALERT_TRIAGERS, ok=405, kwargs=MISSING),
    "monitoring:alert_assign": Expect(ALERT_TRIAGERS, ok=405, kwargs=MISSING),
    "api:alert_list": Expect(ALERT_VIEWERS, anonymous=401),
    "api:alert_detail": Expect(ALERT_VIEWERS, ok=404, anonymous=401, kwargs=API_MISSING),
    "api:alert_transition": Expect(
        ALERT_TRIAGERS, ok=404, anonymous=401, method="post",
        kwargs={**API_MISSING, "action": "acknowledge"}, body={"reason": "matrix"}),
    "api:alert_assign": Expect(
        ALERT_TRIAGERS, ok=404, anonymous=401, method="post", kwargs=API_MISSING,
        body={"assignee": "it_security"}),
    "monitoring:banner": Expect(ALERT_VIEWERS),
    "monitoring:events": Expect(EVENT_VIEWERS),
    "monitoring:sources": Expect(EVENT_VIEWERS),
    # Which system of the inventory a source reports on: IT security manages sources.
    "monitoring:source_system": Expect(SOURCE_MANAGERS, ok=405, kwargs=MISSING),
    "api:source_system_set": Expect(SOURCE_MANAGERS, ok=404, anonymous=401, method="post",
                                    kwargs={"source_id": 999999}, body={"gxp_system": None}),
    # Senders only: the gate refuses every person's session (no role holds
    # monitoring.ingest; integration tokens carry it as a scope).
    "api:monitoring_ingest": Expect(NOBODY, anonymous=401, method="post", body={}),
}
