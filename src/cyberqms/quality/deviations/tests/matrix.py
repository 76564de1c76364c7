"""Authorization-matrix rows for the deviation's own URLs (the kit's list, create, detail,
edit and API rows are core.tests.matrix's, for every family).

Object URLs name a deviation that does not exist: those the gate lets through get 404,
the others 403. POST-only pages answer 405 to the matrix's GET once the gate let it through.
"""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import RECORD_WORKERS, Expect

MISSING = {"pk": 999999}
API_MISSING = {"deviation_id": 999999}

EXPECTATIONS: dict[str, Expect] = {
    "deviations:spawn_capa": Expect(RECORD_WORKERS, ok=405, kwargs=MISSING),
    # the security-reference picker's suggestions: none without a site
    "deviations:security_references": Expect(RECORD_WORKERS),
    "api:deviation_spawn_capa": Expect(
        RECORD_WORKERS, ok=404, anonymous=401, method="post", kwargs=API_MISSING,
        body={"title": "matrix", "owner": "{role}"},
    ),
}
