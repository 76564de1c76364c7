"""Authorization-matrix rows for the change's own URLs, its tasks (the kit's list, create,
detail, edit and API rows are core.tests.matrix's, for every family).

Object URLs name a change that does not exist: those the gate lets through get 404 (the
same answer as for a change they may not see), the others 403. POST-only pages answer 405
to the matrix's GET once the gate let the request through.
"""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import Expect

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
    "changes:task_add": Expect(CHANGE_WORKERS, ok=405, kwargs=MISSING),
    "changes:task_complete": Expect(CHANGE_WORKERS, ok=405, kwargs=TASK),
    "changes:task_cancel": Expect(CHANGE_WORKERS, ok=405, kwargs=TASK),
    "api:change_task_add": Expect(
        CHANGE_WORKERS, ok=404, anonymous=401, method="post", kwargs=API_MISSING,
        body={"description": "matrix", "owner": "{role}", "due_date": "2099-01-01"},
    ),
    "api:change_task_complete": Expect(CHANGE_WORKERS, ok=404, anonymous=401, method="post",
                                       kwargs=API_TASK, body={"note": "matrix"}),
    "api:change_task_cancel": Expect(CHANGE_WORKERS, ok=404, anonymous=401, method="post",
                                     kwargs=API_TASK, body={"reason": "matrix"}),
}
