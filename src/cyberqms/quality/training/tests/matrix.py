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
    # The chain change → documents → training of a change control.
    "training:change": Expect(VIEWERS, ok=404, kwargs=MISSING),
    "training:requirement_remove": Expect(MANAGERS, ok=405, kwargs=MISSING),
    # A person's record as PDF: as the record's page (another's answers 404).
    "training:person_pdf": Expect(EVERYONE, ok=404, kwargs=MISSING),
    # Keeping curricula: holders of `training.manage`.
    "training:curriculum_create": Expect(MANAGERS),
    "training:curriculum_edit": Expect(MANAGERS, ok=404, kwargs=MISSING),
    "training:curriculum_item_create": Expect(MANAGERS, ok=404, kwargs=MISSING),
    "training:curriculum_item_edit": Expect(MANAGERS, ok=404, kwargs=MISSING),
    "training:curriculum_item_remove": Expect(MANAGERS, ok=405, kwargs=MISSING),
    "api:training_assignments": Expect(EVERYONE, anonymous=401),
    "api:training_acknowledge": Expect(EVERYONE, ok=404, anonymous=401, method="post",
                                       kwargs={"assignment_id": 999999},
                                       body={"password": "matrix"}),
    "api:training_matrix": Expect(VIEWERS, anonymous=401),
    "api:training_kpis": Expect(VIEWERS, anonymous=401),
    # Quizzes: one's own quiz and attempts (another's answer 404); a quiz's questions seen
    # by viewers, kept by holders of `training.manage`.
    "training:quiz": Expect(EVERYONE, ok=404, kwargs=MISSING),
    "training:quiz_attempt": Expect(EVERYONE, ok=404, kwargs=MISSING),
    # A quiz's questions with their right answers: for those who keep the quizzes only.
    "training:quiz_edit": Expect(MANAGERS, ok=404, kwargs=MISSING),
    "training:quiz_question": Expect(MANAGERS, ok=405, kwargs=MISSING),
    "training:quiz_question_remove": Expect(MANAGERS, ok=405, kwargs=MISSING),
    "api:training_quiz": Expect(EVERYONE, ok=404, anonymous=401,
                                kwargs={"assignment_id": 999999}),
    "api:training_quiz_submit": Expect(EVERYONE, ok=404, anonymous=401, method="post",
                                       kwargs={"assignment_id": 999999},
                                       body={"password": "matrix", "answers": []}),
    "api:training_quiz_attempts": Expect(EVERYONE, anonymous=401),
}
