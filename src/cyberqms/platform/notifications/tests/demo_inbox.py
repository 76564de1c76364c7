"""After `cyberqms demo` the QA manager's inbox is readable: only notices whose work is
still to do (each record still in a state its notice awaits), one per subject (one per
alert), every notice of the demo in words. Checked inside the demo's own test
(demo/tests/test_demo_records.py), which loads the whole demo once."""

from __future__ import annotations

from collections import Counter

from cyberqms.platform.accounts.models import User
from cyberqms.platform.notifications import queries
from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.trail.registry import by_type

from .test_words import ids_in


def _state_of(notice: Notification) -> str:
    model = by_type(notice.record_type).model
    return str(model._default_manager.values_list("state", flat=True).get(pk=notice.record_id))


def assert_the_qa_managers_inbox_is_open_grouped_and_in_words() -> None:
    """Issue 13: the demo's QA manager sees 15 notices (11 unread; two are the risk
    assessments waiting for her acceptance, one the Dublin access review waiting for her
    decisions), none stale, none twice, no notice of the demo with an id in it."""
    manager = User.objects.get(username="hbrandt")
    inbox = list(queries.inbox(manager))
    stale = [n.subject for n in inbox if n.awaits and _state_of(n) not in n.awaited_states]
    keys = Counter(n.subject_key for n in inbox)
    found = (Counter(n.kind for n in inbox), queries.unread_count(manager))
    assert found == ({"alert": 6, "approval_due": 9}, 11), found
    assert (stale, [key for key, count in keys.items() if count > 1]) == ([], [])
    assert ids_in(Notification.objects.all()) == []
