"""After `cyberqms demo` the QA manager's inbox is readable: only notices whose work is
still to do (each record still in a state its notice awaits), one per subject (one per
alert), every notice of the demo in words. Loads the whole demo once (about half a
minute), at the demo tests' fixed moment."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command

from cyberqms.demo.tests.test_demo_records import (  # noqa: F401  (a fixture, used by name)
    loaded_at_a_fixed_moment,
)
from cyberqms.platform.accounts.models import User
from cyberqms.platform.notifications import queries
from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.trail.registry import by_type

from .test_words import ids_in


def _state_of(notice: Notification) -> str:
    model = by_type(notice.record_type).model
    return str(model._default_manager.values_list("state", flat=True).get(pk=notice.record_id))


# Fresh sequences and a fixed moment: the demo's records, and so its notices, are the same
# every time (see test_demo_records).
@pytest.mark.django_db(transaction=True, reset_sequences=True)
@pytest.mark.usefixtures("loaded_at_a_fixed_moment")
def test_the_qa_managers_inbox_after_the_demo_is_open_grouped_and_in_words() -> None:
    call_command("demo", "--quiet-passwords", stdout=io.StringIO())
    manager = User.objects.get(username="hbrandt")
    inbox = list(queries.inbox(manager))
    stale = [n.subject for n in inbox if n.awaits and _state_of(n) not in n.awaited_states]
    keys = Counter(n.subject_key for n in inbox)
    assert (Counter(n.kind for n in inbox), queries.unread_count(manager)) == (
        {"alert": 6, "approval_due": 6}, 10)
    assert (stale, [key for key, count in keys.items() if count > 1]) == ([], [])
    assert ids_in(Notification.objects.all()) == []
