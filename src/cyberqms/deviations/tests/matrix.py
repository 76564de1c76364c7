"""Authorization-matrix rows for this app's URLs (collected by core's matrix test)."""

from __future__ import annotations

from cyberqms.core.tests.matrix import Expect

EXPECTATIONS: dict[str, Expect] = {}
