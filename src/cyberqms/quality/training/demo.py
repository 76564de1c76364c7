"""The demo organization's training: curricula for every role (and the one every GxP user
follows), kept up as the document library grows; people reading and signing what they are
assigned, some late, a few still overdue; sessions signed off by their trainers; and, from
the second half of the demo, deviation approval gated by training on the deviation SOP
(added under its own change control); a data-integrity quiz every GxP user passes (one
fails it once first). Not product code: it drives the services."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.quality.documents.models import ControlledDocument, DocumentVersion

from . import quiz, services
from .enums import AssignmentState, ItemKind
from .models import Curriculum, CurriculumItem, TrainingAssignment

# (name, roles, for everyone, titles of the documents to read, sessions)
CURRICULA: tuple[tuple[str, tuple[str, ...], bool, tuple[str, ...],
                       tuple[tuple[str, str, int | None], ...]], ...] = (
    ("Every GxP user: data integrity and cyber hygiene", (), True,
     ("Data integrity policy", "Information security policy",
      "Password and authenticator hygiene", "Phishing reporting", "Quality policy"),
     ((ItemKind.CLASSROOM, "Data integrity and ALCOA+ basics", 12),
      (ItemKind.CLASSROOM, "Phishing awareness", 12),
      (ItemKind.CLASSROOM, "Audit-trail and e-signature obligations", 24),
      (ItemKind.CLASSROOM, "Reporting a security incident", 24),
      (ItemKind.QUIZ, "Data integrity and ALCOA+: knowledge check", 12))),
    ("Quality assurance", ("qa_manager", "qa_reviewer"), False,
     ("Deviation management", "Corrective and preventive actions", "Change control",
      "Document control", "Audit-trail review", "Electronic signatures",
      "Complaint handling", "Internal audits", "Batch record review"), ()),
    ("Production and engineering", ("process_owner",), False,
     ("Line clearance", "Operating the blister line BL-2", "Batch record review",
      "Deviation management", "Calibration of instruments",
      "Alarm handling in the building management system"),
     ((ItemKind.ON_THE_JOB, "Blister line BL-2: set-up and in-process checks", None),)),
    ("IT security and system ownership", ("it_security", "system_owner"), False,
     ("Access management for GxP computerized systems", "Backup and restore of GxP data",
      "Security incident response", "Patch management for plant systems",
      "Logging and security monitoring", "Computerized system validation",
      "Validation plan: cyberqms eQMS"), ()),
    ("Authors and originators", ("author",), False,
     ("Document control", "Deviation management", "Change control",
      "Corrective and preventive actions"), ()),
)
# The quiz every GxP user passes: (question, choices, index of the right one); pass mark 80.
QUIZ_TITLE = "Data integrity and ALCOA+: knowledge check"
QUIZ_QUESTIONS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("What does “Attributable” ask of a GxP record?",
     ("That it is typed rather than handwritten",
      "That it shows who made or changed it, and when",
      "That QA has approved it"), 1),
    ("When is an in-process check recorded?",
     ("At the end of the shift, from notes", "At the time it is made",
      "When the batch record is reviewed"), 1),
    ("A colleague asks you to sign in to the line terminal with your account for them. You…",
     ("Do it, if they are trained on the line", "Refuse: everyone records under their own "
      "account", "Do it, and note their name in the comment"), 1),
    ("A value in a paper batch record was written wrongly. How is it corrected?",
     ("Correction fluid, then the right value", "A single line through it, the right value, "
      "initials, date and the reason", "The page is rewritten and the old one discarded"),
     1),
    ("An audit-trail entry shows a result changed after approval without a reason. You…",
     ("Ignore it: the system allowed it", "Report it as a deviation",
      "Ask IT to remove the entry"), 1),
)
# Who fails the quiz once before passing it (the process owner: 3 of 5, then 5 of 5).
QUIZ_FAILS_ONCE = "process_owner"
# The step gated by training, and the document it needs.
GATED_STEP = ("deviations.deviation.approve", "Deviation management")


def schedule(loader: Any) -> int:
    """Put the curricula, the readers and the trainers on the loader's timeline."""
    rng = random.Random("cyberqms demo training")  # noqa: S311  # demo data, not secrets
    start = loader.clock.current
    # The curricula follow the library as it is written, then every quarter.
    for day in (30, 75, 140, *range(230, 560, 90)):
        loader.timeline.start(loader.office(start + dt.timedelta(days=day), rng),
                              curricula(loader), f"curricula day {day}")
    for i, person in enumerate(loader.cast.people.values()):
        # One reader in four leaves things to the last minute (and some past it).
        slow = i % 4 == 3
        loader.timeline.start(loader.office(start + dt.timedelta(days=31 + i), rng),
                              reader(loader, rng, person, slow), f"training of {person}")
    loader.timeline.start(loader.office(start + dt.timedelta(days=35), rng),
                          trainer(loader, rng), "training sessions")
    loader.timeline.start(loader.office(start + dt.timedelta(days=280), rng),
                          gate(loader, rng), "training gates deviation approval")
    loader.timeline.start(start + dt.timedelta(days=32), scheduler(loader),
                          "the scheduler's daily training job")
    # The quiz is written once the curricula hold it (day 30, a weekend later at most). Its
    # own random source: the readers' and trainers' draws stay as they were.
    takers = random.Random("cyberqms demo quiz")  # noqa: S311  # demo data, not secrets
    loader.timeline.start(loader.office(start + dt.timedelta(days=35), takers),
                          quiz_author(loader), "QA writes the data-integrity quiz")
    loader.timeline.start(loader.office(start + dt.timedelta(days=40), takers),
                          quiz_takers(loader, takers), "people take the data-integrity quiz")
    loader.timeline.start(loader.office(loader.end - dt.timedelta(days=25), rng),
                          exercise(loader), "a session added after the exercise")
    return len(CURRICULA)


def scheduler(loader: Any) -> Iterator[dt.datetime]:
    """The scheduler's daily job (`training.daily`), here weekly: retraining fallen due."""
    while True:
        services.daily()
        yield loader.clock.current + dt.timedelta(days=7)


def exercise(loader: Any) -> Iterator[dt.datetime]:
    """After the ransomware exercise, IT security and system owners get a tabletop session
    to attend within two weeks: the session is after the end of the demo."""
    name, roles, everyone, titles, sessions = CURRICULA[3]
    services.curriculum_save(
        actor=loader.cast.qa_manager, name=name, roles=list(roles), for_everyone=everyone,
        documents=_documents(titles), curriculum=Curriculum.objects.get(name=name),
        sessions=(*sessions, (ItemKind.CLASSROOM, "Ransomware response tabletop", 12)),
        due_days=14, reason="Lessons learned from the ransomware exercise")
    return
    yield  # a script: the timeline runs it as one step


def quiz_author(loader: Any) -> Iterator[dt.datetime]:
    """The QA manager writes the quiz's questions (it passes at 80 %)."""
    item = CurriculumItem.objects.get(title=QUIZ_TITLE, kind=ItemKind.QUIZ)
    for text, choices, right in QUIZ_QUESTIONS:
        quiz.quiz_question_save(item, actor=loader.cast.qa_manager, text=text,
                                choices=list(choices), correct=right)
    return
    yield  # a script: the timeline runs it as one step


def quiz_takers(loader: Any, rng: random.Random) -> Iterator[dt.datetime]:
    """Every week or two, whoever has the quiz open takes it: most get all five right, some
    four (a pass at 80 %); one person gets three right the first time and passes later."""
    people = {p.pk: p for p in loader.cast.people.values()}
    fails_once = getattr(loader.cast, QUIZ_FAILS_ONCE)
    failed: set[int] = set()
    while True:
        yield loader.later(5, 12, rng)
        for assignment in TrainingAssignment.objects.filter(
                state=AssignmentState.OPEN, kind=ItemKind.QUIZ).order_by("pk"):
            person = people.get(assignment.person_id)
            if person is None or rng.random() < 0.3:
                continue  # not today
            right = 3 if (person.pk == fails_once.pk and person.pk not in failed) else (
                4 if rng.random() < 0.3 else 5)
            if right == 3:
                failed.add(person.pk)
            questions = quiz.questions_of(assignment.item_id)
            answers = {q.pk: q.correct if n < right else (q.correct + 1) % len(q.choices)
                       for n, q in enumerate(questions)}
            quiz.quiz_attempt_submit(
                assignment, actor=person, answers=answers, signature=loader.sign(person),
                started_at=loader.clock.current - dt.timedelta(minutes=rng.randint(4, 15)))


def _documents(titles: tuple[str, ...]) -> list[ControlledDocument]:
    found = DocumentVersion.objects.filter(title__in=titles, is_deleted=False).values_list(
        "document_id", flat=True).distinct()
    return list(ControlledDocument.objects.filter(pk__in=list(found)).order_by("number"))


def curricula(loader: Any) -> Iterator[dt.datetime]:
    for name, roles, everyone, titles, sessions in CURRICULA:
        existing = Curriculum.objects.filter(name=name).first()
        services.curriculum_save(actor=loader.cast.qa_manager, name=name, roles=list(roles),
                                 for_everyone=everyone, documents=_documents(titles),
                                 sessions=sessions, curriculum=existing, due_days=21,
                                 reason="Documents added to the library")
    return
    yield  # a script: the timeline runs it as one step


def reader(loader: Any, rng: random.Random, person: Any,
           slow: bool) -> Iterator[dt.datetime]:
    """Every week or two the person reads what is open and signs it; a slow reader lets
    some of it pass its due date."""
    while True:
        yield loader.later(4, 12, rng)
        today = loader.clock.current.date()
        open_reads = TrainingAssignment.objects.filter(
            person=person, state=AssignmentState.OPEN, kind=ItemKind.READING).order_by(
                "due_date")
        for assignment in open_reads:
            late_enough = assignment.due_date - today <= dt.timedelta(days=-5 if slow else 3)
            if slow and loader.end - loader.clock.current < dt.timedelta(days=120):
                continue  # the slow reader's last weeks: overdue at the end of the demo
            if late_enough or rng.random() < (0.2 if slow else 0.6):
                services.reading_acknowledge(assignment, actor=person,
                                             signature=loader.sign(person))


def trainer(loader: Any, rng: random.Random) -> Iterator[dt.datetime]:
    """Sessions run about monthly; the QA manager signs attendance, the process owner
    on-the-job training, each the other's own."""
    cast = loader.cast
    while True:
        yield loader.later(20, 35, rng)
        open_sessions = TrainingAssignment.objects.filter(
            state=AssignmentState.OPEN).exclude(
                kind__in=[ItemKind.READING, ItemKind.QUIZ]).select_related(
                "person").order_by("due_date")
        for assignment in open_sessions:
            if loader.end - loader.clock.current < dt.timedelta(days=45):
                continue  # the next session is after the demo's end
            trainers = [cast.process_owner, cast.qa_manager] if (
                assignment.kind == ItemKind.ON_THE_JOB) else [cast.qa_manager,
                                                              cast.process_owner]
            by = next(t for t in trainers if t.pk != assignment.person_id)
            services.training_sign_off(assignment, actor=by, signature=loader.sign(by),
                                       note="Attendance list signed in the session.")


def gate(loader: Any, rng: random.Random) -> Iterator[dt.datetime]:
    """QA decides that deviation approval needs current training on the deviation SOP,
    under its own change control."""
    step, title = GATED_STEP
    documents = _documents((title,))
    if not documents:
        return
    changes, cast = kind_by_slug("changes"), loader.cast
    from cyberqms.platform.kit.record_services import record_create

    planned = loader.clock.current.date() + dt.timedelta(days=14)
    change = record_create(changes, actor=cast.qa_manager, site=cast.sites["DUB"], values={
        "title": "Deviation approval requires current SOP training",
        "change_type": "process", "owner": cast.qa_manager,
        "description": "cyberqms refuses deviation approval to QA staff whose training on "
                       "the deviation SOP is not current (21 CFR 11.10(i)).",
        "justification": "Audit observation: an approver had not read the current SOP.",
        "scope": "Deviation approval in cyberqms at both sites.",
        "product_quality_impact": "Positive: approvals follow the current procedure.",
        "validation_impact": "Configuration change; verified in the test environment.",
        "regulatory_impact": "No filing.", "cyber_assessment": "No change to systems.",
        "severity": 2, "probability": 2, "detectability": 1,
        "planned_implementation_date": planned, "due_date": planned + dt.timedelta(days=30),
    })
    changes.workflow.run(change, "submit", actor=cast.qa_manager)
    yield loader.later(1, 3, rng)
    changes.workflow.run(change, "qa_approve", actor=cast.qa_reviewer,
                         signature=loader.sign(cast.qa_reviewer))
    changes.workflow.run(change, "release", actor=cast.qa_reviewer)
    yield loader.later(1, 3, rng)
    services.requirement_add(actor=cast.qa_manager, step=step,
                             document_number=documents[0].number, change_number=change.number)
