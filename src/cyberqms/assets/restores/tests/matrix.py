"""Who the kit's pages and API serve for restore tests: IT security and system owners
record them; the QA manager, QA reviewers, auditors and administrators read them."""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import Expect

RESTORE_VIEWERS = frozenset({"qa_manager", "qa_approver", "it_security", "system_owner",
                             "auditor", "admin"})
RESTORE_WORKERS = frozenset({"it_security", "system_owner"})
KIT_ROLES = (RESTORE_VIEWERS, RESTORE_WORKERS)
EXPECTATIONS: dict[str, Expect] = {}
