"""Authorization-matrix rows of the search: everyone signed in may search (each finds only
the records their families' view rights and sites show them). Without words the API
answers 422 naming `q`."""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import EVERYONE, SELF, Expect

EXPECTATIONS: dict[str, Expect] = {
    "web:search": SELF,
    "api:search": Expect(EVERYONE, ok=422, anonymous=401),
}
