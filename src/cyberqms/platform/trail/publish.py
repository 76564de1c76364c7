"""`checkpoint_publish`: send the newest signed checkpoint to every witness (trail/witness.py).

Run by the worker every `CYBERQMS_TRAIL_WITNESS_INTERVAL` seconds (and by ``cyberqms trail
witness``). Each witness is told about a checkpoint once; a witness that cannot be reached
is tried again at the next run.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field

from django.conf import settings

from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import Severity
from cyberqms.platform.trail import witness
from cyberqms.platform.trail.log import latest_checkpoint, prove_consistency

logger = logging.getLogger("cyberqms.platform.trail")


@dataclass
class PublishReport:
    size: int = 0
    written: list[str] = field(default_factory=list)  # witnesses that now hold `size`
    failed: list[str] = field(default_factory=list)  # "<witness>: <why>"
    ahead: list[str] = field(default_factory=list)  # witnesses that saw a larger tree

    @property
    def ok(self) -> bool:
        return not self.failed and not self.ahead


def checkpoint_publish() -> PublishReport:
    """Publish the newest checkpoint to the directory and HTTP witnesses and the SIEM.

    Side effects: files in the witness directories; add-checkpoint requests; the
    cosignatures received, added to the local witness copy; a `trail.checkpoint.published`
    security event when a SIEM is configured; a high `trail.witness.failed` event for a
    witness that failed, and a critical `trail.witness.ahead` event for a witness that has
    cosigned more entries than the database holds (a rollback).
    """
    report = PublishReport()
    latest = latest_checkpoint()
    if latest is None:
        return report
    size, note = latest.size, latest.note
    report.size = size
    state = witness.read_state()
    for directory in witness.directory_witnesses():
        try:
            directory.write(size, note)
            report.written.append(directory.describe())
        except OSError as exc:
            report.failed.append(f"{directory.describe()}: {exc.strerror or exc}")
    sent = state.setdefault("http", {})
    for remote in witness.configured_witnesses():
        if sent.get(remote.url) == size:
            continue
        try:
            outcome = _add(remote, size, note, int(sent.get(remote.url, 0)))
        except witness.WitnessError as exc:
            report.failed.append(str(exc))
            continue
        if outcome.status == 200:
            sent[remote.url] = size
            report.written.append(remote.describe())
            if outcome.cosignatures:
                cosigned = witness.with_cosignatures(
                    witness.local_witness().read() or note, outcome.cosignatures
                )
                if witness.note_text(cosigned) == witness.note_text(note):
                    witness.local_witness().write(size, cosigned)
        elif outcome.status == 409 and outcome.witness_size is not None \
                and outcome.witness_size > size:
            report.ahead.append(
                f"{remote.describe()} has cosigned {outcome.witness_size} entries; the "
                f"database's newest checkpoint covers {size}: "
                f"{outcome.witness_size - size} entries are missing (database restored from "
                "an older copy, or entries and checkpoints deleted)"
            )
        elif outcome.status == 409 and outcome.witness_size == size:
            report.ahead.append(
                f"{remote.describe()} has cosigned a different tree of {size} entries "
                "(history rewritten)"
            )
        else:
            report.failed.append(
                f"{remote.describe()} refused the checkpoint of {size} entries "
                f"(HTTP {outcome.status}{': ' + outcome.message if outcome.message else ''})"
            )
    if settings.CYBERQMS_SIEM_ADDRESS and int(state.get("siem", 0)) < size:
        emit_security_event(
            "trail.checkpoint.published", severity=Severity.INFO,
            message=f"Audit trail checkpoint: {size} entries, root "
            f"{base64.b64encode(bytes(latest.root)).decode('ascii')}",
            data={"size": size, "note": note},
        )
        state["siem"] = size
    witness.write_state(state)
    for problem in report.ahead:
        emit_security_event(
            "trail.witness.ahead", severity=Severity.CRITICAL,
            message=f"Audit trail rolled back: {problem}", data={"size": size},
        )
    for problem in report.failed:
        logger.warning("checkpoint not witnessed: %s", problem)
        emit_security_event(
            "trail.witness.failed", severity=Severity.HIGH,
            message=f"Checkpoint not witnessed: {problem}"[:500], data={"size": size},
        )
    return report


def _add(remote: witness.HttpWitness, size: int, note: str, old: int) -> witness.AddResult:
    """add-checkpoint from `old`; on a 409 naming a smaller size, once more from there."""
    for _attempt in range(2):
        old = old if 0 <= old <= size else 0
        proof = prove_consistency(old, size) if 0 < old < size else []
        outcome = remote.add_checkpoint(old, proof, note)
        if outcome.status != 409 or outcome.witness_size is None:
            return outcome
        if outcome.witness_size > size or outcome.witness_size == old:
            return outcome
        old = outcome.witness_size
    return outcome
