"""Authorization-matrix rows for this app's URLs (collected by core's matrix test).

Object URLs name a deviation that does not exist: those the gate lets through get 404
(the same answer as for one they may not see), the others 403. POST-only pages answer 405
to the matrix's GET once the gate let the request through.
"""

from __future__ import annotations

from cyberqms.core.tests.matrix import Expect

DEVIATION_VIEWERS = frozenset(
    {"qa_manager", "qa_approver", "process_owner", "author", "it_security", "system_owner",
     "auditor"}
)
DEVIATION_WORKERS = DEVIATION_VIEWERS - {"auditor"}  # create, edit, submit, work
MISSING = {"pk": 999999}
API_MISSING = {"deviation_id": 999999}

EXPECTATIONS: dict[str, Expect] = {
    "deviations:list": Expect(DEVIATION_VIEWERS),
    "deviations:create": Expect(DEVIATION_WORKERS),
    "deviations:detail": Expect(DEVIATION_VIEWERS, ok=404, kwargs=MISSING),
    "deviations:edit": Expect(DEVIATION_WORKERS, ok=405, kwargs=MISSING),
    "deviations:spawn_capa": Expect(DEVIATION_WORKERS, ok=405, kwargs=MISSING),
    "api:deviation_list": Expect(DEVIATION_VIEWERS, anonymous=401),
    "api:deviation_detail": Expect(DEVIATION_VIEWERS, ok=404, anonymous=401,
                                   kwargs=API_MISSING),
    "api:deviation_update": Expect(DEVIATION_WORKERS, ok=404, anonymous=401, method="post",
                                   kwargs=API_MISSING, body={"changes": {}, "reason": "matrix"}),
    "api:deviation_spawn_capa": Expect(
        DEVIATION_WORKERS, ok=404, anonymous=401, method="post", kwargs=API_MISSING,
        body={"title": "matrix", "owner": "{role}"},
    ),
}

# POST /api/v1/deviations shares its path with the list: the gate lets creators through
# and an unknown site is then refused (422, naming the field).
SHARED_PATH_OPERATIONS: dict[str, Expect] = {
    "api:deviation_create": Expect(
        DEVIATION_WORKERS, ok=422, anonymous=401, method="post",
        body={"site": "NOPE", "title": "matrix", "owner": "{role}"},
    ),
}
