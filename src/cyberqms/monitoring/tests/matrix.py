"""Authorization-matrix rows for the monitoring app's URLs (collected by core's matrix test).

Object URLs name an alert that does not exist: those the gate lets through get 404 (the
same answer as for one they may not see), the others 403. POST-only pages answer 405 to
the matrix's GET once the gate let the request through.
"""

from __future__ import annotations

from cyberqms.core.tests.matrix import NOBODY, Expect

EXPECTATIONS: dict[str, Expect] = {
    # Senders only: the gate refuses every person's session (no role holds
    # monitoring.ingest; integration tokens carry it as a scope).
    "api:monitoring_ingest": Expect(NOBODY, anonymous=401, method="post", body={}),
}
