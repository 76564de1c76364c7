"""Authorization-matrix rows for the drill's own page (the trend), and who the kit's pages
and API serve for drills: IT security and the QA manager plan, run and score them; QA
reviewers, auditors and administrators read them."""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import Expect

DRILL_VIEWERS = frozenset({"qa_manager", "qa_approver", "it_security", "auditor", "admin"})
DRILL_WORKERS = frozenset({"qa_manager", "it_security"})
KIT_ROLES = (DRILL_VIEWERS, DRILL_WORKERS)
EXPECTATIONS: dict[str, Expect] = {
    "drills:trend": Expect(DRILL_VIEWERS),
}
