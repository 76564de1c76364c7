"""The one exception every monitoring parser raises for input it rejects."""

from __future__ import annotations


class ParseError(ValueError):
    """Input rejected by a parser.

    ``reason`` is a short stable code (``"oversized"``, ``"invalid_utf8"``, ``"bad_pri"`` …)
    that quarantine counters group by; ``detail`` says what was wrong for a human reader.
    """

    def __init__(self, reason: str, detail: str = "", *, data: bytes = b"") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        # What was received of a frame the framing rejected (its head, up to HEAD_BYTES),
        # so it can be quarantined like any other rejected line.
        self.data = data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParseError):
            return NotImplemented
        return (self.reason, self.detail) == (other.reason, other.detail)

    def __hash__(self) -> int:
        return hash((self.reason, self.detail))

    def __repr__(self) -> str:
        return f"ParseError({self.reason!r}, {self.detail!r})"
