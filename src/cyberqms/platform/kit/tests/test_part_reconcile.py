"""Verification reconciles a record's parts (comments, attachments) with the trail in the
same number of queries however many there are (issue 14, P11-06)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cyberqms.platform.kit.record_parts import comment_add
from cyberqms.platform.trail.integrity import check_trail
from cyberqms.platform.trail.log import trail_seal
from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state

pytestmark = pytest.mark.django_db


def verification() -> tuple[int, list[str]]:
    """The queries of a full verification, and what it found."""
    trail_seal()
    with CaptureQueriesContext(connection) as captured:
        report = check_trail()
    return len(captured.captured_queries), [p.message for p in report.problems]


def test_comments_are_reconciled_in_the_same_queries_for_1_and_50(
    personas: dict[str, Any],
) -> None:
    """A comment's label names its record's number, which reading costs a query: only a
    comment that differs from the trail is named, so a clean run reads no number (it
    read one per comment)."""
    draft = deviation_in_state(personas, "draft", site=a_site())
    comment_add(draft, actor=personas["author"], body="Comment 0")
    with_one = verification()
    for n in range(1, 50):
        comment_add(draft, actor=personas["author"], body=f"Comment {n}")
    # the test's site is made without the services: the one difference found, both times
    assert verification() == (with_one[0], [
        f"accounts.site {draft.site_id} (MUC) has no audit entry: created outside cyberqms"])
