"""Detection for the whole installation in one process (issue 14, item 7): receiving
processes keep and parse what they receive; the detector, the scheduler holding the lease,
runs the rules, correlation windows and baselines over every process's batches, so an
attack spread over several web workers or nodes is counted once, and a new detector
carries on the windows its predecessor left (CYB-03, A11-10)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cyberqms.platform.core import scheduler
from cyberqms.security.monitoring import detector, services
from cyberqms.security.monitoring.models import Alert, DetectionBacklog, EventSource, RawEvent
from cyberqms.security.monitoring.tests.test_pipeline import T0, failed_logins
from cyberqms.security.transport.tests.test_transport import post, sender

__all__ = ["sender"]  # the HTTP sender fixture, shared with the transport tests

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def queued(settings: Any) -> None:
    """Receiving processes leave detection to the detector; each test starts a fresh one."""
    settings.CYBERQMS_DETECTION = "detector"
    services.reload_rules()


def new_detector() -> None:
    """Another process becomes the detector: empty windows, rebuilt from the database."""
    services.reload_rules()


@pytest.fixture
def relay(personas: dict[str, Any]) -> EventSource:
    return services.source_create(
        actor=personas["it_security"], name="Basel relay", kind="firewall",
        system="Plant relay", format="syslog")


def test_a_receiving_process_keeps_the_batch_for_the_detector_a11_10(
    relay: EventSource,
) -> None:
    result = services.ingest(relay, [*failed_logins(10), "not syslog"], channel="http",
                             received_at=T0)
    assert (result.accepted, result.quarantined, result.alerts) == (10, 1, [])
    assert RawEvent.objects.count() == 11
    ids = list(RawEvent.objects.filter(status="accepted").order_by("id")
               .values_list("id", flat=True))
    backlog = DetectionBacklog.objects.get()
    assert (backlog.runs, backlog.events) == ([[ids[0], ids[-1]]], 10)
    assert Alert.objects.count() == 0


def test_the_detector_raises_the_alert_with_its_evidence_cyb_03(relay: EventSource) -> None:
    services.ingest(relay, failed_logins(10), channel="http", received_at=T0)
    run = detector.detect_pending()
    assert (run.batches, run.events, run.alerts) == (1, 10, 1)
    alert = Alert.objects.get()
    assert (alert.level, alert.techniques, alert.count, alert.events.count()) == (
        "high", ["T1110.001"], 10, 10)
    assert all(e.event["metadata"]["uid"] == str(e.pk) for e in alert.events.all())
    assert DetectionBacklog.objects.count() == 0


def test_a_detected_batch_is_not_detected_again(relay: EventSource) -> None:
    services.ingest(relay, failed_logins(10), channel="http", received_at=T0)
    detector.detect_pending()
    assert detector.detect_pending().batches == 0
    assert Alert.objects.get().count == 10


def test_batches_received_by_different_processes_share_one_window(
    relay: EventSource, personas: dict[str, Any],
) -> None:
    lims = services.source_create(actor=personas["it_security"], name="LIMS BSL", kind="lims",
                                  system="LabWare LIMS", format="syslog")
    # Two web workers (or nodes) each take half of one brute force: neither sees ten.
    services.ingest(relay, failed_logins(5), channel="http", received_at=T0)
    services.ingest(lims, failed_logins(5, start=T0 + timedelta(seconds=50)),
                    channel="syslog-tcp", received_at=T0)
    assert Alert.objects.count() == 0
    detector.detect_pending()
    assert list(Alert.objects.values_list("count", flat=True)) == [10]


def test_a_new_detector_carries_on_the_windows_of_the_one_before(relay: EventSource) -> None:
    services.ingest(relay, failed_logins(6), channel="http", received_at=T0)
    assert detector.detect_pending().alerts == 0
    new_detector()
    services.ingest(relay, failed_logins(4, start=T0 + timedelta(seconds=60)),
                    channel="http", received_at=T0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: T0 + timedelta(seconds=100))
        run = detector.detect_pending()
    assert (run.replayed, run.alerts) == (6, 1)
    assert Alert.objects.get().events.count() == 10


def test_a_new_detector_does_not_replay_batches_that_still_wait(relay: EventSource) -> None:
    services.ingest(relay, failed_logins(9), channel="http", received_at=T0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: T0 + timedelta(seconds=100))
        run = detector.detect_pending()
    assert (run.replayed, run.events, run.alerts) == (0, 9, 0)


def test_inline_detection_leaves_nothing_for_the_detector(relay: EventSource) -> None:
    result = services.ingest(relay, failed_logins(10), channel="file", received_at=T0,
                             detect=True)
    assert (len(result.alerts), DetectionBacklog.objects.count()) == (1, 0)


def test_the_scheduler_runs_the_detector() -> None:
    job = scheduler.JOBS["monitoring.detect"]
    assert (job.interval(), job.run().__class__) == (0.5, detector.DetectorRun)



def test_an_http_sender_is_told_the_detector_detects_its_batch(
    sender: dict[str, Any],
) -> None:
    response = post(sender["secret"], "\n".join(failed_logins(10)))
    assert (response.status_code, response.json()) == (202, {
        "received": 10, "accepted": 10, "quarantined": 0, "reasons": {}, "alerts": [],
        "detection": "detector"})
    assert DetectionBacklog.objects.get().events == 10
