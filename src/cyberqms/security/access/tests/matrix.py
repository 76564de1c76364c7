"""Authorization-matrix rows for SCIM: every call authenticates with an integration's
bearer token, so a signed-in person's session (or nothing) answers 401, in SCIM's own
error format; the HR import page is the administrators'."""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import Expect

NO_TOKEN = Expect(frozenset(), denied=401, anonymous=401)
EXPECTATIONS: dict[str, Expect] = {
    "scim:config": NO_TOKEN,
    "scim:users": NO_TOKEN,
    "scim:user": Expect(frozenset(), denied=401, anonymous=401, kwargs={"pk": "1"}),
    "scim:groups": NO_TOKEN,
    "scim:group": Expect(frozenset(), denied=401, anonymous=401, kwargs={"pk": "author"}),
}
