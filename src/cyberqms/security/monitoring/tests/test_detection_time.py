"""Event time cannot steer or silence detection (CYB-04, issue 12 item 5): correlation
windows and behaviour baselines run on a processing time that a sender cannot move past
its receipt; late events are correlated in their own key's windows, never dropped.

A sender of crafted timestamps is the persona here: one line dated 2030, a replay of old
lines, timestamps spread out of order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cyberqms.security.detect.baseline import Baselines
from cyberqms.security.detect.detection import Engine, parse_rules
from cyberqms.security.detect.detection.timing import (
    AHEAD,
    DELAYED,
    LATE,
    ON_TIME,
    Placement,
    TimePolicy,
)
from cyberqms.security.monitoring.tests.test_baseline import CONFIG, MONDAY, event, routine
from cyberqms.security.monitoring.tests.test_detection_correlation import (
    BASE,
    EVENT_COUNT,
    MINUTE,
    VALUE_COUNT,
    event_count_engine,
    failed,
)

RECEIVED = 1_000 * MINUTE  # epoch ms of the receipt in the placement tests
POLICY = TimePolicy(max_skew_ms=5 * MINUTE, max_lateness_ms=60 * MINUTE)
YEAR_2030 = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp() * 1000)


# --- placement: which time an event is processed on --------------------------------------------


def test_a_time_within_the_skew_is_used_as_claimed() -> None:
    assert POLICY.place(RECEIVED + 5 * MINUTE, RECEIVED) == Placement(RECEIVED + 5 * MINUTE,
                                                                      ON_TIME)


def test_a_time_ahead_beyond_the_skew_is_processed_on_the_receipt() -> None:
    assert POLICY.place(YEAR_2030, RECEIVED) == Placement(RECEIVED, AHEAD)


def test_a_time_behind_beyond_the_skew_is_delayed_and_kept() -> None:
    assert POLICY.place(RECEIVED - 30 * MINUTE, RECEIVED) == Placement(RECEIVED - 30 * MINUTE,
                                                                       DELAYED)


def test_a_time_beyond_the_lateness_bound_is_late_on_the_receipt() -> None:
    assert POLICY.place(RECEIVED - 61 * MINUTE, RECEIVED) == Placement(RECEIVED, LATE)


@pytest.mark.parametrize("claimed", [None, "2030-01-01", float("nan"), True])
def test_no_usable_time_is_the_receipt(claimed: Any) -> None:
    assert POLICY.place(claimed, RECEIVED) == Placement(RECEIVED, ON_TIME)


def test_policy_in_seconds_keeps_the_lateness_at_least_the_skew() -> None:
    assert TimePolicy.from_seconds(600, 60) == TimePolicy(600_000, 600_000)


def test_a_lateness_below_the_skew_is_refused() -> None:
    with pytest.raises(ValueError, match="max_skew_ms <= max_lateness_ms"):
        TimePolicy(max_skew_ms=10, max_lateness_ms=5)


# --- correlations --------------------------------------------------------------------------------


def test_a_future_dated_event_placed_on_its_receipt_does_not_blind_the_window() -> None:
    engine = event_count_engine()
    now = 100 * MINUTE
    forged = failed("mallory", "10.6.6.6", 0)
    forged["time"] = YEAR_2030
    at, _ = POLICY.place(forged["time"], now)
    engine.evaluate(forged, at=at)
    attack = [failed("ana", "10.0.0.1", 100 + m / 10) for m in range(3)]
    matches = [m for e in attack for m in engine.evaluate(e, at=POLICY.place(e["time"], now).at)]
    assert [(m.title, m.count) for m in matches] == [("brute force", 3)]


def test_a_delayed_key_is_correlated_in_its_own_window() -> None:
    """A relay flushes an hour-old brute force while other keys are current: counted."""
    engine = event_count_engine()
    assert engine.evaluate_many([failed("ana", "10.0.0.1", 100)]) == []
    replay = [failed("bob", "10.0.0.2", 40 + m) for m in range(3)]
    [match] = engine.evaluate_many(replay)
    assert (match.group, match.count) == (
        (("actor.user.name", "bob"), ("src_endpoint.ip", "10.0.0.2")), 3)


def test_a_replay_of_a_key_active_now_is_counted_in_its_late_lane() -> None:
    engine = event_count_engine()
    assert engine.evaluate_many([failed("ana", "h", 100), failed("ana", "h", 101)]) == []
    [match] = engine.evaluate_many([failed("ana", "h", m) for m in (1, 2, 3)])
    assert (match.group, match.count) == (
        (("actor.user.name", "ana"), ("src_endpoint.ip", "h")), 3)


def test_an_event_older_than_its_lane_is_counted_at_the_lane_time_not_dropped() -> None:
    engine = event_count_engine()
    engine.evaluate_many([failed("ana", "h", 100), failed("ana", "h", 101),
                          failed("ana", "h", 50)])
    [match] = engine.evaluate_many([failed("ana", "h", 10), failed("ana", "h", 49)])
    assert (match.count, engine.late) == (3, 1)


def test_a_delayed_group_is_kept_while_the_clock_moves_on() -> None:
    engine = event_count_engine()
    window = engine._correlations[0].window
    engine.evaluate_many([failed("ana", "h", 100), failed("bob", "h", 40)])
    engine.evaluate_many([failed("cy", "h", 104)])
    assert len(window) == 3


def test_value_count_of_a_delayed_key_uses_its_own_window() -> None:
    engine = Engine(parse_rules(BASE + VALUE_COUNT))
    assert engine.evaluate_many([failed("ana", "10.0.0.1", 500)]) == []
    spray = [failed(user, "10.0.0.9", 100 + i) for i, user in enumerate(("x", "y", "z"))]
    [match] = engine.evaluate_many(spray)
    assert (match.title, match.count) == ("spraying", 3)


def test_value_count_forgets_a_value_that_left_the_window_out_of_order() -> None:
    engine = Engine(parse_rules(BASE + VALUE_COUNT))
    # "b" arrives after "c" but is older; once "d" moves the ten-minute window past "b",
    # only c and d remain: two values, no alert.
    events = [failed("a", "h", 0), failed("c", "h", 10.5), failed("b", "h", 1),
              failed("d", "h", 11.5)]
    assert engine.evaluate_many(events) == []


# --- events without a group-by value -----------------------------------------------------------


def test_events_without_an_account_are_never_grouped_as_one() -> None:
    engine = event_count_engine()
    nameless = [failed("x", "10.0.0.1", m / 10) for m in range(5)]
    for e in nameless:
        del e["actor"]
    assert (engine.evaluate_many(nameless), len(engine._correlations[0].window)) == ([], 0)


def test_an_empty_account_name_is_not_a_group() -> None:
    engine = event_count_engine()
    assert engine.evaluate_many([failed("", "10.0.0.1", m / 10) for m in range(5)]) == []


def test_events_without_an_account_do_not_enter_a_window() -> None:
    engine = Engine(parse_rules(BASE + EVENT_COUNT.format(op="gte", extra="")))
    nameless = failed("x", "10.0.0.1", 0)
    del nameless["actor"]
    engine.evaluate(nameless, ref="row-1")
    assert engine.fed is False


# --- behaviour baselines --------------------------------------------------------------------------


def test_a_future_dated_first_event_does_not_keep_a_user_learning_forever() -> None:
    """Without the receipt as processing time the user's first sight is 2030: the user and
    the system never finish learning and the thresholds never leave the prior."""
    baselines = Baselines(CONFIG)
    forged = event("ana", datetime(2030, 1, 1, 8, tzinfo=UTC))
    baselines.observe(forged, at=int(MONDAY.timestamp() * 1000))
    for e in routine(MONDAY, 14):
        baselines.observe(e)
    figures = baselines.figures()
    assert (figures["learning"], figures["mature"], figures["thresholds"]) == (
        0, 6, {"user": 10.0, "system": 10.0})
