"""Authorization-matrix rows for the CAPA's own URLs (the kit's list, create, detail, edit
and API rows are core.tests.matrix's, for every family).

Object URLs name a CAPA that does not exist: those the gate lets through get 404 (the same
answer as for a CAPA they may not see), the others 403. POST-only pages answer 405 to the
matrix's GET once the gate let the request through.
"""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import Expect

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
    "capa:action_add": Expect(CAPA_WORKERS, ok=405, kwargs=MISSING),
    "capa:action_complete": Expect(CAPA_WORKERS, ok=405,
                                   kwargs={"pk": 999999, "action_id": 1}),
    "capa:action_cancel": Expect(CAPA_WORKERS, ok=405, kwargs={"pk": 999999, "action_id": 1}),
    "capa:effectiveness": Expect(CAPA_VERIFIERS, ok=405, kwargs=MISSING),
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
