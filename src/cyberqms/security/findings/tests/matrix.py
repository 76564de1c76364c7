"""Who the kit's pages and API serve for access findings: IT security and the QA manager
work them; auditors and administrators read them."""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import Expect

FINDING_VIEWERS = frozenset({"qa_manager", "qa_approver", "it_security", "auditor", "admin"})
FINDING_WORKERS = frozenset({"qa_manager", "it_security"})
KIT_ROLES = (FINDING_VIEWERS, FINDING_WORKERS)
EXPECTATIONS: dict[str, Expect] = {}
