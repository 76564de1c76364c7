"""Authorization-matrix rows for the training pages and API.

My training, the reading to sign and one's own training record are everyone's (each
narrows to the signed-in person: another's assignment or record answers 404); the
matrix, curricula and requirements are for holders of `training.view`; the trainer's
sign-off for `training.deliver`; changing requirements for `training.manage`. POST-only
pages answer 405 to the matrix's GET once the gate let the request through.
"""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import EVERYONE, Expect

VIEWERS = frozenset({"qa_manager", "qa_approver", "process_owner", "auditor"})
DELIVERERS = frozenset({"qa_manager", "process_owner"})
MANAGERS = frozenset({"qa_manager"})
MISSING = {"pk": 999999}

EXPECTATIONS: dict[str, Expect] = {
    "training:mine": Expect(EVERYONE),
    "training:read": Expect(EVERYONE, ok=404, kwargs=MISSING),
    "training:person": Expect(EVERYONE, ok=404, kwargs=MISSING),
    "training:sign_off": Expect(DELIVERERS, ok=405, kwargs=MISSING),
    "training:matrix": Expect(VIEWERS),
    "training:curricula": Expect(VIEWERS),
    "training:requirements": Expect(VIEWERS),
    "training:requirement_remove": Expect(MANAGERS, ok=405, kwargs=MISSING),
    "api:training_assignments": Expect(EVERYONE, anonymous=401),
    "api:training_acknowledge": Expect(EVERYONE, ok=404, anonymous=401, method="post",
                                       kwargs={"assignment_id": 999999},
                                       body={"password": "matrix"}),
    "api:training_matrix": Expect(VIEWERS, anonymous=401),
    "api:training_kpis": Expect(VIEWERS, anonymous=401),
}
