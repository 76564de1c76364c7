"""Fixtures of the security-incident tests: the signing personas and a brute-force alert
at Basel (ten failed sign-ins over syslog)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cyberqms.quality.deviations.tests.factories import a_site, ready_to_sign
from cyberqms.security.monitoring import services as monitoring
from cyberqms.security.monitoring.models import Alert

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    for name in ("qa_manager", "qa_approver", "it_security"):
        ready_to_sign(personas[name], personas["admin"])
    monitoring.reload_rules()
    return personas


@pytest.fixture
def alert(people: dict[str, Any]) -> Alert:
    site = a_site("BSL")
    source = monitoring.source_create(
        actor=people["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog", site=site,
    )
    lines = [
        f"<38>1 {(T0 + dt.timedelta(seconds=5 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z lims01 "
        "sshd 4242 - - Failed password for qc_analyst from 10.20.0.7 port 22 ssh2"
        for i in range(10)
    ]
    result = monitoring.ingest(source, lines, channel="syslog-tcp", received_at=T0)
    return result.alerts[0]
