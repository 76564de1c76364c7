"""What the producers of notices need in these tests: a security alert as detection
leaves it (a Sigma rule's UUID, a group key of event fields)."""

from __future__ import annotations

from typing import Any

RULE_UUID = "24722c4b-87d8-4a98-ae99-f451f98aa1c9"


def an_alert(site: Any = None, **fields: Any) -> Any:
    """A high alert (at a new site BSL unless given): ten failed sign-ins of one account."""
    from cyberqms.quality.deviations.tests.factories import a_site, security_alert

    values: dict[str, Any] = {
        "rule_id": RULE_UUID, "group_key": "actor.user.name=qc_analyst|src_endpoint.ip=10.20.0.7",
        "summary": "Failed password for qc_analyst from 10.20.0.7", "count": 10,
    }
    values.update(fields)
    return security_alert(site or a_site("BSL"), **values)
