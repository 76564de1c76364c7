"""Authentication attempts, not lines.

One failed SSH password produces two or three failure lines from the same sshd process:
``Invalid user x from …``, the PAM ``authentication failure; … rhost=…`` and ``Failed
password for … port …``. Counted as lines, five failed logins trip a ten-failure rule. The
engine asks ``Attempts.of`` which attempt a failed authentication belongs to, and feeds each
correlation at most once per attempt.

An attempt is the failure lines of one sender's host and process id (``metadata.log_name``,
``device.hostname``, ``unmapped.syslog.procid``) within ``window_ms`` of each other, at
most one line of each kind (the message pattern, ``unmapped.pattern``), and the same
source port and address where both lines carry one. A second line of a kind already in
the attempt starts the next attempt: a connection that tries six passwords logs six
``Failed password`` lines for one port, and they are six attempts. Failures without a
process id (Windows 4625, JSON events) are one attempt each, as before.

Memory is bounded: attempts are forgotten once the clock is ``window_ms`` past their last
line, and at most ``max_open`` are kept (the oldest go first). Pure Python, no Django.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final

ATTEMPT_WINDOW_MS: Final = 60_000
MAX_OPEN_ATTEMPTS: Final = 100_000
AUTHENTICATION: Final = 3002
STATUS_FAILURE: Final = 2

_EMPTY: Final[Mapping[str, Any]] = {}


class Attempt:
    """The lines of one authentication attempt seen so far, and the correlations that
    already counted it (by position)."""

    __slots__ = ("address", "counted", "kinds", "last", "port", "touched")

    def __init__(self, kind: Any, port: Any, address: Any, at: float, clock: float) -> None:
        self.kinds = {kind}
        self.port = port
        self.address = address
        self.last = at
        self.touched = clock
        self.counted: set[int] = set()


def _part(value: Any, key: str) -> Any:
    """``value[key]`` when it is a string or an integer (events may carry anything)."""
    found = value.get(key) if value.__class__ is dict else None
    return found if found.__class__ in (str, int) else None


class Attempts:
    """Open attempts per (source, host, process id); see the module doc."""

    def __init__(self, window_ms: int = ATTEMPT_WINDOW_MS,
                 max_open: int = MAX_OPEN_ATTEMPTS) -> None:
        self.window_ms = window_ms
        self.max_open = max_open
        self._open: OrderedDict[tuple[Any, ...], Attempt] = OrderedDict()

    def __len__(self) -> int:
        return len(self._open)

    def of(self, event: Mapping[str, Any], at: float, clock: float) -> Attempt | None:
        """The attempt a failed authentication belongs to (a new one when it starts one);
        None for other events and for failures without a process id. ``at``: the event's
        processing time; ``clock``: the engine's (newest processing time seen)."""
        if event.get("class_uid") != AUTHENTICATION or not (
            event.get("status_id") == STATUS_FAILURE or event.get("status") == "Failure"
        ):
            return None
        unmapped = event.get("unmapped")
        syslog = unmapped.get("syslog") if unmapped.__class__ is dict else None
        pid = _part(syslog, "procid")
        if pid is None or pid == "":
            return None
        key = (_part(event.get("metadata"), "log_name"), _part(event.get("device"), "hostname"),
               pid)
        kind = _part(unmapped, "pattern")
        src = event.get("src_endpoint") or _EMPTY
        port = _part(src, "port")
        address = _part(src, "ip")
        self._evict(clock)
        current = self._open.get(key)
        if current is not None and self._joins(current, kind, port, address, at):
            current.kinds.add(kind)
            if current.port is None:
                current.port = port
            if current.address is None:
                current.address = address
            if at > current.last:
                current.last = at
            current.touched = clock
            self._open.move_to_end(key)
            return current
        attempt = self._open[key] = Attempt(kind, port, address, at, clock)
        self._open.move_to_end(key)
        return attempt

    def _joins(self, attempt: Attempt, kind: Any, port: Any, address: Any, at: float) -> bool:
        return (
            kind not in attempt.kinds
            and abs(at - attempt.last) <= self.window_ms
            and (port is None or attempt.port is None or port == attempt.port)
            and (address is None or attempt.address is None or address == attempt.address)
        )

    def _evict(self, clock: float) -> None:
        idle = clock - self.window_ms
        attempts = self._open
        while attempts:
            oldest = next(iter(attempts))
            if attempts[oldest].touched >= idle and len(attempts) < self.max_open:
                break
            del attempts[oldest]
