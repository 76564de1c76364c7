"""Authorization-matrix rows for this app's URLs (collected by core's matrix test).

Object URLs name a change that does not exist: those the gate lets through get 404 (the
same answer as for a change they may not see), the others 403. POST-only pages answer 405
to the matrix's GET once the gate let the request through.
"""

from __future__ import annotations

from cyberqms.core.tests.matrix import Expect

CHANGE_VIEWERS = frozenset(
    {"qa_manager", "qa_approver", "process_owner", "author", "it_security", "system_owner",
     "auditor"}
)
CHANGE_WORKERS = CHANGE_VIEWERS - {"auditor"}  # create, edit, work
MISSING = {"pk": 999999}
TASK = {"pk": 999999, "task_id": 1}
API_MISSING = {"change_id": 999999}
API_TASK = {"change_id": 999999, "task_id": 1}

EXPECTATIONS: dict[str, Expect] = {
    "changes:list": Expect(CHANGE_VIEWERS),
    "changes:create": Expect(CHANGE_WORKERS),
    "changes:detail": Expect(CHANGE_VIEWERS, ok=404, kwargs=MISSING),
    "changes:edit": Expect(CHANGE_WORKERS, ok=405, kwargs=MISSING),
    "changes:task_add": Expect(CHANGE_WORKERS, ok=405, kwargs=MISSING),
    "changes:task_complete": Expect(CHANGE_WORKERS, ok=405, kwargs=TASK),
    "changes:task_cancel": Expect(CHANGE_WORKERS, ok=405, kwargs=TASK),
    "api:change_list": Expect(CHANGE_VIEWERS, anonymous=401),
    "api:change_detail": Expect(CHANGE_VIEWERS, ok=404, anonymous=401, kwargs=API_MISSING),
    "api:change_task_add": Expect(
        CHANGE_WORKERS, ok=404, anonymous=401, method="post", kwargs=API_MISSING,
        body={"description": "matrix", "owner": "{role}", "due_date": "2099-01-01"},
    ),
    "api:change_task_complete": Expect(CHANGE_WORKERS, ok=404, anonymous=401, method="post",
                                       kwargs=API_TASK, body={"note": "matrix"}),
    "api:change_task_cancel": Expect(CHANGE_WORKERS, ok=404, anonymous=401, method="post",
                                     kwargs=API_TASK, body={"reason": "matrix"}),
}

# POST /api/v1/changes shares its path with the list: the gate lets creators through and
# an unknown site is then refused (422, naming the field). PATCH /changes/{id} shares the
# detail's path; the matrix drives GET there (the PATCH gate is tested in test_api.py).
SHARED_PATH_OPERATIONS: dict[str, Expect] = {
    "api:change_create": Expect(
        CHANGE_WORKERS, ok=422, anonymous=401, method="post",
        body={"site": "NOPE", "title": "matrix", "change_type": "other",
              "justification": "matrix"},
    ),
    "api:change_update": Expect(CHANGE_VIEWERS, ok=404, anonymous=401, kwargs=API_MISSING),
}
