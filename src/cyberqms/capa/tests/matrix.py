"""Authorization-matrix rows for this app's URLs (collected by core's matrix test).

Object URLs name a CAPA that does not exist: those the gate lets through get 404 (the same
answer as for a CAPA they may not see), the others 403. POST-only pages answer 405 to the
matrix's GET once the gate let the request through.
"""

from __future__ import annotations

from cyberqms.core.tests.matrix import Expect

CAPA_VIEWERS = frozenset(
    {"qa_manager", "qa_approver", "process_owner", "author", "it_security", "system_owner",
     "auditor"}
)
CAPA_WORKERS = CAPA_VIEWERS - {"auditor"}  # create, edit, work
CAPA_VERIFIERS = frozenset({"qa_manager", "qa_approver"})
MISSING = {"pk": 999999}
API_MISSING = {"capa_id": 999999}
API_ACTION = {"capa_id": 999999, "action_id": 1}

EXPECTATIONS: dict[str, Expect] = {
    "capa:list": Expect(CAPA_VIEWERS),
    "capa:create": Expect(CAPA_WORKERS),
    "capa:detail": Expect(CAPA_VIEWERS, ok=404, kwargs=MISSING),
    "capa:edit": Expect(CAPA_WORKERS, ok=405, kwargs=MISSING),
    "capa:action_add": Expect(CAPA_WORKERS, ok=405, kwargs=MISSING),
    "capa:action_complete": Expect(CAPA_WORKERS, ok=405,
                                   kwargs={"pk": 999999, "action_id": 1}),
    "capa:action_cancel": Expect(CAPA_WORKERS, ok=405, kwargs={"pk": 999999, "action_id": 1}),
    "capa:effectiveness": Expect(CAPA_VERIFIERS, ok=405, kwargs=MISSING),
    "api:capa_list": Expect(CAPA_VIEWERS, anonymous=401),
    "api:capa_detail": Expect(CAPA_VIEWERS, ok=404, anonymous=401, kwargs=API_MISSING),
    "api:capa_update": Expect(CAPA_WORKERS, ok=404, anonymous=401, method="post",
                              kwargs=API_MISSING, body={"changes": {}, "reason": "matrix"}),
    "api:capa_action_add": Expect(
        CAPA_WORKERS, ok=404, anonymous=401, method="post", kwargs=API_MISSING,
        body={"kind": "corrective", "description": "matrix", "owner": "{role}",
              "due_date": "2099-01-01"},
    ),
    "api:capa_action_complete": Expect(CAPA_WORKERS, ok=404, anonymous=401, method="post",
                                       kwargs=API_ACTION, body={"evidence": "matrix"}),
    "api:capa_action_cancel": Expect(CAPA_WORKERS, ok=404, anonymous=401, method="post",
                                     kwargs=API_ACTION, body={"reason": "matrix"}),
    "api:capa_effectiveness_record": Expect(
        CAPA_VERIFIERS, ok=404, anonymous=401, method="post", kwargs=API_MISSING,
        body={"result": "passed", "evidence": "matrix", "password": "x"},
    ),
}

# POST /api/v1/capa shares its path with the list: the gate lets creators through and an
# unknown site is then refused (422, naming the field).
SHARED_PATH_OPERATIONS: dict[str, Expect] = {
    "api:capa_create": Expect(
        CAPA_WORKERS, ok=422, anonymous=401, method="post",
        body={"site": "NOPE", "title": "matrix", "owner": "{role}", "source": "other"},
    ),
}
