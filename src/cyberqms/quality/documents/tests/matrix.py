"""Authorization-matrix rows for the document's own URLs: the controlled copy, the content
file, the start of a revision and the comparison of versions (the kit's rows are core.tests.matrix's).

Object URLs name a version that does not exist: those the gate lets through get 404 (the
same answer as for a version they may not see), the others 403; the POST-only revision page
answers 405 to the matrix's GET once the gate let the request through.
"""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import Expect

DOCUMENT_VIEWERS = frozenset(
    {"qa_manager", "qa_approver", "process_owner", "author", "it_security", "system_owner",
     "auditor"}
)
DOCUMENT_WRITERS = DOCUMENT_VIEWERS - {"auditor"}
MISSING = {"pk": 999999}
API_MISSING = {"record_id": 999999}

EXPECTATIONS: dict[str, Expect] = {
    "documents:copy": Expect(DOCUMENT_VIEWERS, ok=404, kwargs=MISSING),
    "documents:revise": Expect(DOCUMENT_WRITERS, ok=405, kwargs=MISSING),
    "documents:compare": Expect(DOCUMENT_VIEWERS, ok=404, kwargs={"pk": 999999, "other": 1}),
    "documents:content": Expect(DOCUMENT_WRITERS, ok=405, kwargs=MISSING),
    "api:document_revise": Expect(
        DOCUMENT_WRITERS, ok=404, anonymous=401, method="post", kwargs=API_MISSING,
        body={"size": "minor", "change_summary": "matrix"}),
    # multipart only: the JSON body of the matrix fails validation, after the gate
    "api:document_content": Expect(DOCUMENT_WRITERS, ok=422, anonymous=401, method="post",
                                   kwargs=API_MISSING, body={}),
    "api:document_copy": Expect(DOCUMENT_VIEWERS, ok=404, anonymous=401, kwargs=API_MISSING),
    "api:document_compare": Expect(DOCUMENT_VIEWERS, ok=404, anonymous=401,
                                   kwargs={"record_id": 999999, "other_id": 1}),
}
