"""Authorization-matrix rows for the risk register (the kit's rows are core's)."""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import RECORD_USERS, Expect

EXPECTATIONS: dict[str, Expect] = {
    "risks:register": Expect(RECORD_USERS),
}
