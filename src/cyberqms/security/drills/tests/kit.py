"""Sample drill values for the record-kit walker (kit.tests.kit): the synthetic plant's
brute force against a QMS account, announced, run by hand."""

from __future__ import annotations

from typing import Any

CREATE: dict[str, Any] = {
    "title": "Quarterly drill: brute force against the QMS",
    "kind": "attack",
    "scenario": "brute_force_qms",
    "announced": True,
}
FILL: dict[str, Any] = {"lessons": "Detected in seconds; acknowledgement took too long "
                                   "at night: on-call rota reviewed."}
# Queries of the list page and the API list, the same for 1 row as for 5.
QUERIES = {"page": 9, "api": 7}


def before(kind: Any, record: Any, action: str, people: dict[str, Any]) -> None:
    """Scoring needs the drill played: its play is queued when the start commits, which a
    test inside one transaction never does; it is played here instead."""
    if action == "score" and record.started_at is None:
        from cyberqms.security.drills.services import play

        play(record.pk)
        record.refresh_from_db()
