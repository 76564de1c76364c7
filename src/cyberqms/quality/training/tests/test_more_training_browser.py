"""Training pages built beside the readings, in a real browser (P11-13, AL-10): a person
takes a quiz from My training, answers every question right, signs “Quiz passed” and finds
the training completed; a QA manager adds a classroom session to a curriculum and sees it
listed; the chain page of a change control shows the document version it put in force and
how many have read it, and the change's page leads there. axe checks each of these pages.

What is not the point of a test is arranged through the services (the quiz and its
questions, the curriculum, the change control and the version in force), with the fixtures
of the quiz and chain tests. The browser fixtures are those of web/tests/browser (Debian's
Chromium, the live server, the console and CSP collection, a screenshot of every page
opened).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from cyberqms.web.tests.browser import conftest as browser_fixtures
from cyberqms.web.tests.browser.test_identity_browser import (
    assert_no_console_errors,
    at,
    sign_in,
)
from cyberqms.web.tests.browser.test_interface_browser import blocking_violations

from .test_quiz import QUESTIONS, _quiz_curriculum
from .test_training_browser import fill_signature

pytestmark = pytest.mark.browser

# The browser journeys' fixtures (web/tests/browser/conftest.py), which pytest offers only
# to the tests under that folder.
browser = browser_fixtures.browser
live_server = browser_fixtures.live_server
open_page = browser_fixtures.open_page
SCREENSHOT_DIR = browser_fixtures.SCREENSHOT_DIR

QUIZ = "Data integrity: knowledge check"
SESSION = "GMP basics for reviewers"
SESSION_REASON = "Every new reviewer attends GMP basics."
CLASSROOM = "Classroom session (attendance signed by the trainer)"


@pytest.fixture
def chain(personas: dict[str, Any]) -> tuple[Any, Any]:
    """A change control approved behind SOP-QA-0001 v1.1 in force, which QA reviewers and
    process owners read (test_chain's arrangement). The database commits here, so the
    approval's on-commit step puts v1.1 in force by itself (its effective date is today)."""
    from cyberqms.platform.accounts.tests.factories import SiteFactory
    from cyberqms.platform.kit.record_parts import link_add
    from cyberqms.platform.kit.records import kind_by_slug
    from cyberqms.platform.kit.tests.kit import record_in_state
    from cyberqms.quality.documents.models import DocumentVersion
    from cyberqms.quality.documents.services import document_revise
    from cyberqms.quality.documents.tests.test_documents import _approved
    from cyberqms.quality.training import services

    site = SiteFactory.create(code="MUC", name="Site MUC")
    documents = kind_by_slug("documents")
    first = record_in_state(documents, "effective", personas, site=site,
                            title="Deviation management", doc_type="sop", department="QA",
                            cyber_relevant=False)
    assert isinstance(first, DocumentVersion)
    services.curriculum_save(actor=personas["qa_manager"], name="QA review",
                             roles=["qa_reviewer", "process_owner"], for_everyone=False,
                             documents=[first.document])
    draft = document_revise(first, actor=personas["author"], size="minor",
                            change_summary="Triage within one day.")
    change = record_in_state(kind_by_slug("changes"), "approved", personas, site=site)
    link_add(draft, actor=personas["author"], target_number=change.number,
             relation="implements")
    version = _approved(documents, personas, draft)
    version.refresh_from_db()
    assert (version.number, version.state) == ("SOP-QA-0001 v1.1", "effective")
    for user in personas.values():
        user.refresh_from_db()
        user.forget_access_cache()
    return change, version


def signed_in(open_page: Callable[[], Page], user: Any, path: str) -> Page:
    page = open_page()
    sign_in(page, user, totp=user.has_mfa())
    page.goto(path)
    return page


def flash(page: Page) -> Locator:
    return page.locator("ul.messages")


def keep_screenshot(page: Page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)


def axe_findings(page: Page) -> list[str]:
    """axe's serious and critical violations, each as its rule, help and first targets."""
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}"
            for v in blocking_violations(page)]


def quiz_taker(personas: dict[str, Any]) -> tuple[Any, Any]:
    """The quiz of five questions for every GxP user (passing at 80 %), and the author, who
    is to take it: identity verified, the signature statement accepted. Returns (author,
    the author's open quiz assignment)."""
    from cyberqms.platform.kit.tests.kit import ready_to_sign
    from cyberqms.quality.training.enums import ItemKind
    from cyberqms.quality.training.models import TrainingAssignment

    _quiz_curriculum(personas)
    author = ready_to_sign(personas["author"], personas["admin"])
    author.refresh_from_db()
    author.forget_access_cache()
    return author, TrainingAssignment.objects.get(person=author, kind=ItemKind.QUIZ)


def test_a_quiz_answered_right_and_signed_completes_the_training(
    open_page: Callable[[], Page], personas: dict[str, Any]
) -> None:
    author, assignment = quiz_taker(personas)
    page = signed_in(open_page, author, "/training/mine/")
    to_do = page.get_by_test_id("training-open")
    expect(to_do.locator("tbody tr td").first).to_have_text(
        re.compile(rf"^{re.escape(QUIZ)}\s*Quiz \(pass mark, attempts kept\)$"))

    with page.expect_navigation():
        to_do.get_by_role("link", name="Take the quiz").click()
    expect(page).to_have_url(at(f"/training/mine/{assignment.pk}/quiz/"))
    questions = page.get_by_test_id("question")
    expect(questions.locator("legend")).to_have_text(
        [f"{n}. {text}" for n, (text, _choices, _right) in enumerate(QUESTIONS, start=1)])
    for n, (_text, choices, right) in enumerate(QUESTIONS):
        questions.nth(n).get_by_label(choices[right], exact=True).check()
    form = page.get_by_test_id("quiz-form")
    fill_signature(form)
    keep_screenshot(page, "quiz-answered")
    with page.expect_navigation():
        form.get_by_test_id("quiz-submit").click()

    expect(flash(page)).to_have_text(f"{QUIZ}: passed with 100 %, signed.")
    expect(page.locator("h1").first).to_have_text(f"{QUIZ}: 100 %")
    expect(page.get_by_test_id("quiz-result")).to_have_text("Passed: the training is complete.")
    expect(page.get_by_test_id("quiz-signature").locator("tr.manifestation td").first).to_have_text(
        "Quiz passed")
    keep_screenshot(page, "quiz-passed")
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="My training", exact=True).click()
    expect(to_do.locator("tbody tr")).to_have_text("Nothing to do: your training is current.")
    completed = page.get_by_role("region", name="Completed training").locator("tbody tr td")
    expect(completed.nth(0)).to_have_text(QUIZ)
    expect(completed.nth(2)).to_have_text(author.printed_name)
    keep_screenshot(page, "quiz-my-training-completed")
    assert_no_console_errors(page)


def test_a_qa_manager_adds_a_classroom_session_to_a_curriculum(
    open_page: Callable[[], Page], personas: dict[str, Any]
) -> None:
    from cyberqms.quality.training import services

    curriculum = services.curriculum_save(
        actor=personas["qa_manager"], name="QA review", roles=["qa_reviewer"],
        for_everyone=False, documents=[])
    path = f"/training/curricula/{curriculum.pk}/"
    page = signed_in(open_page, personas["qa_manager"], path)
    items = page.get_by_test_id("curriculum-items")
    expect(items.locator("tbody tr")).to_have_text(
        "No item yet: add the documents to read and the sessions.")

    with page.expect_navigation():
        items.get_by_role("link", name="Add an item").click()
    expect(page).to_have_url(at(f"/training/curricula/{curriculum.pk}/items/new/"))
    form = page.get_by_test_id("item-form")
    form.get_by_label("Kind").select_option(label=CLASSROOM)
    form.get_by_label("What it covers").fill(SESSION)
    form.get_by_label("Days to complete").fill("30")
    form.get_by_label("Retrain every (months)").fill("12")
    form.get_by_label("Reason").fill(SESSION_REASON)
    keep_screenshot(page, "curriculum-item-form")
    with page.expect_navigation():
        form.get_by_role("button", name="Add item").click()

    expect(page).to_have_url(at(path))
    expect(flash(page)).to_have_text(f"{SESSION}: added.")
    row = items.get_by_test_id("curriculum-item")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text(SESSION)
    expect(row.locator("td").nth(1)).to_have_text(CLASSROOM)
    expect(row.locator("td").nth(2)).to_have_text("30")
    expect(row.locator("td").nth(3)).to_have_text("12 months")
    keep_screenshot(page, "curriculum-item-added")
    assert_no_console_errors(page)


def test_the_chain_page_shows_the_version_in_force_and_nobody_has_read_it_yet(
    open_page: Callable[[], Page], personas: dict[str, Any], chain: tuple[Any, Any]
) -> None:
    change, version = chain
    page = signed_in(open_page, personas["qa_manager"], f"/training/changes/{change.pk}/")

    expect(page.locator("h1").first).to_have_text("Documents and training")
    row = page.get_by_test_id("chain-version")
    expect(row).to_have_count(1)
    expect(row.locator("h2")).to_have_text(f"{version.number} {version.title}")
    expect(row.locator(".panel-head .badge")).to_have_text("Effective")
    expect(row.get_by_test_id("chain-done")).to_have_text("0 of 2 (0 %)")
    expect(row.locator("table tbody tr td:first-child")).to_have_text([
        personas["process_owner"].printed_name, personas["qa_approver"].printed_name])
    keep_screenshot(page, "chain-page")
    assert_no_console_errors(page)


def test_the_change_page_links_to_its_documents_and_training(
    open_page: Callable[[], Page], personas: dict[str, Any], chain: tuple[Any, Any]
) -> None:
    change, _version = chain
    page = signed_in(open_page, personas["qa_manager"], f"/changes/{change.pk}/")
    link = page.get_by_test_id("change-training-link")
    expect(link).to_have_text("Documents and training")
    keep_screenshot(page, "change-page")

    with page.expect_navigation():
        link.click()

    expect(page).to_have_url(at(f"/training/changes/{change.pk}/"))
    expect(page.locator("h1").first).to_have_text("Documents and training")
    assert_no_console_errors(page)


def test_the_quiz_and_curriculum_pages_have_no_blocking_accessibility_violation(
    open_page: Callable[[], Page], personas: dict[str, Any]
) -> None:
    """The quiz to take, a passed attempt, My training, a curriculum with an item and the
    new item's form, each with every card and tab opened."""
    from cyberqms.platform.kit.tests.kit import signature
    from cyberqms.quality.training import quiz, services
    from cyberqms.quality.training.enums import ItemKind
    from cyberqms.quality.training.models import TrainingAssignment

    author, assignment = quiz_taker(personas)
    answers = {q.pk: q.correct for q in quiz.questions_of(assignment.item_id)}
    attempt = quiz.quiz_attempt_submit(assignment, actor=author, answers=answers,
                                       signature=signature(author))
    curriculum = services.curriculum_save(
        actor=personas["qa_manager"], name="New reviewers", roles=["qa_reviewer"],
        for_everyone=False, documents=[], sessions=[(ItemKind.CLASSROOM, SESSION, None)])
    manager = personas["qa_manager"]
    manager_quiz = TrainingAssignment.objects.get(person=manager, kind=ItemKind.QUIZ)
    page = signed_in(open_page, manager, "/training/mine/")
    findings: dict[str, list[str]] = {}
    for path in ("/training/mine/", f"/training/mine/{manager_quiz.pk}/quiz/",
                 f"/training/attempts/{attempt.pk}/", f"/training/curricula/{curriculum.pk}/",
                 f"/training/curricula/{curriculum.pk}/items/new/"):
        page.goto(path)
        expect(page.locator("h1").first).to_be_visible()
        found = axe_findings(page)
        if found:
            findings[path] = found

    assert findings == {}


def test_the_chain_page_has_no_blocking_accessibility_violation(
    open_page: Callable[[], Page], personas: dict[str, Any], chain: tuple[Any, Any]
) -> None:
    change, _version = chain
    page = signed_in(open_page, personas["qa_manager"], f"/training/changes/{change.pk}/")
    expect(page.get_by_test_id("chain-version")).to_have_count(1)

    assert axe_findings(page) == []
