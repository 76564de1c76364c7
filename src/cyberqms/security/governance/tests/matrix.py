"""Authorization-matrix rows for access governance: the overview, a person's access, the
reviewer's pages, and the API under /api/v1/access/; who the kit serves for campaigns."""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import EVERYONE, RECORD_USERS, Expect

REVIEW_VIEWERS = frozenset({"qa_manager", "qa_approver", "it_security", "auditor", "admin"})
REVIEW_RUNNERS = frozenset({"qa_manager", "it_security"})
KIT_ROLES = (REVIEW_VIEWERS, REVIEW_RUNNERS)
GOVERNANCE = frozenset({"qa_manager", "it_security", "auditor", "admin"})
SCANNERS = frozenset({"qa_manager", "it_security"})

EXPECTATIONS: dict[str, Expect] = {
    "governance:overview": Expect(GOVERNANCE),
    "governance:hr_import": Expect(frozenset({"admin"})),
    # POST only: the gate lets the scanners through, then GET answers 405
    "governance:scan": Expect(SCANNERS, ok=405),
    # a missing person or campaign answers 404 to those the gate lets through
    "governance:person": Expect(GOVERNANCE, ok=404, kwargs={"pk": 999999}),
    "governance:decide": Expect(EVERYONE, ok=404, kwargs={"pk": 999999}),
    # POST only: the gate lets through who may propose (or apply), then GET answers 405
    "governance:privilege_propose": Expect(SCANNERS, ok=405),
    "governance:privilege_apply": Expect(frozenset({"admin"}), ok=405, kwargs={"pk": 999999}),
    # a system's accounts: whoever sees systems (a missing system answers 404)
    "governance:system_accounts": Expect(RECORD_USERS, ok=404, kwargs={"pk": 999999}),
    "governance:attest": Expect(EVERYONE, ok=405, kwargs={"pk": 999999}),
    "api:access_overview": Expect(GOVERNANCE, anonymous=401),
    "api:access_scan": Expect(SCANNERS, anonymous=401, method="post", body={}),
    "api:access_person_usage": Expect(GOVERNANCE, ok=404, anonymous=401,
                                      kwargs={"username": "nobody-here"}),
    "api:access_sod_matrix": Expect(GOVERNANCE, anonymous=401),
    # no such suggestion: those the gate lets through are told so, naming the field
    "api:access_suggestion_propose": Expect(SCANNERS, ok=422, anonymous=401, method="post",
                                            body={"role": "author", "site": "NOWHERE",
                                                  "action": "deviations.approve"}),
    "api:access_privilege_changes": Expect(GOVERNANCE, anonymous=401),
    "api:access_privilege_change_apply": Expect(frozenset({"admin"}), ok=404, anonymous=401,
                                                method="post", kwargs={"change_id": 999999},
                                                body={}),
    "api:access_suggestions": Expect(GOVERNANCE, anonymous=401),
    "api:access_review_items": Expect(EVERYONE, ok=404, anonymous=401,
                                      kwargs={"review_id": 999999}),
    "api:access_review_decide": Expect(EVERYONE, ok=404, anonymous=401, method="post",
                                       kwargs={"review_id": 999999, "item_id": 1},
                                       body={"decision": "keep", "reason": "x"}),
    "api:access_review_attest": Expect(EVERYONE, ok=404, anonymous=401, method="post",
                                       kwargs={"review_id": 999999}, body={}),
}
