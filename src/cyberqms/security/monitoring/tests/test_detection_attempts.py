"""Attempts, not lines (CYB-04, issue 12 item 6): the two or three failure lines one SSH
password attempt produces count once in the brute-force and spraying correlations; PAM
lines without a user are never grouped as an account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.security.detect.detection import SHIPPED_RULES_DIR, Engine, Match, load_rules
from cyberqms.security.detect.ocsf import SourceInfo, get, normalize
from cyberqms.security.detect.parsers import parse_line
from cyberqms.security.monitoring.tests.test_detection_correlation import event_count_engine

RECEIVED = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
START = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
SOURCE = SourceInfo(name="bastion-syslog", kind="syslog", site="BSL", system="bastion")


def norm(line: str) -> dict[str, Any]:
    return normalize(parse_line(line, "syslog", received_at=RECEIVED), source=SOURCE,
                     received_at=RECEIVED)


def stamp(at: datetime) -> str:
    return f"{at:%b} {at.day:2d} {at:%H:%M:%S}"


def invalid_user_attempt(pid: int, at: datetime, *, user: str = "oracle",
                         ip: str = "203.0.113.9", port: int = 40000) -> list[str]:
    """What sshd and PAM log for one password tried for an unknown account."""
    head = f"<38>{stamp(at)} bastion sshd[{pid}]:"
    later = f"<38>{stamp(at + timedelta(seconds=2))} bastion sshd[{pid}]:"
    return [
        f"{head} Invalid user {user} from {ip} port {port}",
        f"{head} pam_unix(sshd:auth): check pass; user unknown",
        f"{head} pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
        f"ruser= rhost={ip} ",
        f"{later} Failed password for invalid user {user} from {ip} port {port} ssh2",
        f"{later} Connection closed by {ip} port {port} [preauth]",
    ]


def attempts(n: int, **kwargs: Any) -> list[str]:
    return [line for i in range(n)
            for line in invalid_user_attempt(5000 + i, START + timedelta(seconds=5 * i),
                                             **kwargs)]


def evaluate(engine: Engine, lines: list[str]) -> list[tuple[Match, list[str]]]:
    """Matches, each with the message patterns of the lines its window counted."""
    events = [norm(line) for line in lines]
    out = []
    for index, event in enumerate(events):
        for match in engine.evaluate(event, index):
            out.append((match, [get(events[i], "unmapped.pattern") for i in match.related]))
    return out


PACK = load_rules([SHIPPED_RULES_DIR])


def shipped() -> Engine:
    return Engine(PACK)


def test_five_failed_logins_do_not_trip_the_ten_failure_rule() -> None:
    assert evaluate(shipped(), attempts(5)) == []


def test_ten_failed_logins_raise_one_brute_force_alert_counting_ten_attempts() -> None:
    [(match, counted)] = evaluate(shipped(), attempts(10))
    assert (match.title, match.count, match.group) == (
        "Brute force against one account", 10,
        (("actor.user.name", "oracle"), ("src_endpoint.ip", "203.0.113.9")))
    assert counted == ["sshd_invalid_user"] * 10


def test_pam_lines_without_a_user_are_never_grouped_as_an_account() -> None:
    pam_only = [line for line in attempts(12) if "authentication failure" in line]
    assert evaluate(shipped(), pam_only) == []


def test_each_password_tried_in_one_connection_is_an_attempt() -> None:
    head = f"<38>{stamp(START)} bastion sshd[24227]:"
    lines = [
        f"{head} pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
        "ruser= rhost=203.0.113.5  user=root",
        *[f"{head} Failed password for root from 203.0.113.5 port 42393 ssh2"] * 3,
    ]
    [(match, counted)] = evaluate(event_count_engine(), lines)
    assert (match.count, counted) == (3, ["pam_auth_failure", "sshd_failed", "sshd_failed"])


def test_lines_of_one_process_from_different_source_ports_are_different_attempts() -> None:
    head = f"<38>{stamp(START)} bastion sshd[7]:"
    lines = [f"{head} Invalid user root from 203.0.113.5 port 1",
             f"{head} Failed password for root from 203.0.113.5 port 2 ssh2",
             f"<38>{stamp(START)} bastion sshd[8]: Failed password for root from 203.0.113.5 "
             "port 3 ssh2"]
    [(match, _)] = evaluate(event_count_engine(), lines)
    assert match.count == 3


def test_lines_further_apart_than_the_attempt_window_are_different_attempts() -> None:
    lines = [f"<38>{stamp(START + timedelta(seconds=s))} bastion sshd[7]: {text}" for s, text in (
        (0, "Invalid user root from 203.0.113.5"),
        (61, "Failed password for root from 203.0.113.5 port 2 ssh2"),
        (62, "Failed password for root from 203.0.113.5 port 2 ssh2"),
    )]
    [(match, _)] = evaluate(event_count_engine(), lines)
    assert match.count == 3


def test_failures_without_a_process_id_count_one_each() -> None:
    lines = [f"<38>{stamp(START)} bastion sshd: {text}" for text in (
        "Invalid user root from 203.0.113.5",
        "Failed password for root from 203.0.113.5 port 2 ssh2",
        "Invalid user root from 203.0.113.5",
    )]
    [(match, _)] = evaluate(event_count_engine(), lines)
    assert match.count == 3


def test_a_pam_line_naming_a_host_leaves_the_count_to_the_line_with_the_address() -> None:
    lines = []
    for pid in (1, 2, 3):
        head = f"<38>{stamp(START)} bastion sshd[{pid}]:"
        lines += [
            f"{head} pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
            "tty=ssh ruser= rhost=dsl-203-0-113-5.example.net  user=root",
            f"{head} Failed password for root from 203.0.113.5 port {pid} ssh2",
        ]
    [(match, counted)] = evaluate(event_count_engine(), lines)
    assert (match.group, counted) == (
        (("actor.user.name", "root"), ("src_endpoint.ip", "203.0.113.5")),
        ["sshd_failed"] * 3)


def test_spraying_counts_one_account_per_attempt_and_no_account_for_pam_lines() -> None:
    lines = [line for i, user in enumerate(f"user{n}" for n in range(9))
             for line in invalid_user_attempt(6000 + i, START + timedelta(seconds=i),
                                              user=user)]
    assert evaluate(shipped(), lines) == []


# --- what the normalizer gives the attempt grouping ----------------------------------------------


def test_sshd_names_the_source_port() -> None:
    event = norm(f"<38>{stamp(START)} bastion sshd[4242]: Failed password for invalid user "
                 "admin from 203.0.113.7 port 52311 ssh2")
    assert (event["src_endpoint"], get(event, "unmapped.syslog.procid")) == (
        {"ip": "203.0.113.7", "port": 52311}, "4242")


def test_a_pam_rhost_that_is_a_host_name_is_not_an_address() -> None:
    event = norm(f"<38>{stamp(START)} bastion sshd[1]: pam_unix(sshd:auth): authentication "
                 "failure; logname= uid=0 euid=0 tty=ssh ruser= "
                 "rhost=5.36.59.76.dynamic-dsl-ip.omantel.net.om  user=root")
    assert (event["src_endpoint"], get(event, "actor.user.name")) == (
        {"hostname": "5.36.59.76.dynamic-dsl-ip.omantel.net.om"}, "root")


# --- a sender of crafted fields ----------------------------------------------------------------

ODD = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=6),
                   lambda inner: st.lists(inner, max_size=2)
                   | st.dictionaries(st.text(max_size=4), inner, max_size=2), max_leaves=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "procid": ODD, "log_name": ODD, "hostname": ODD, "pattern": ODD, "port": ODD, "ip": ODD,
    "user": ODD, "time": ODD}), max_size=6))
def test_attempt_grouping_never_raises_on_odd_fields_cyb_04(parts: list[dict[str, Any]]) -> None:
    engine = shipped()
    for part in parts:
        event = {"class_uid": 3002, "activity_id": 1, "status_id": 2, "status": "Failure",
                 "time": part["time"], "actor": {"user": {"name": part["user"]}},
                 "metadata": {"log_name": part["log_name"]},
                 "device": {"hostname": part["hostname"]},
                 "src_endpoint": {"ip": part["ip"], "port": part["port"]},
                 "unmapped": {"pattern": part["pattern"], "syslog": {"procid": part["procid"]}}}
        assert all(m.event is event for m in engine.evaluate(event))
