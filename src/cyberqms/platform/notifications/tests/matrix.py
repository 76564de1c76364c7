"""Authorization-matrix rows of the inbox: everyone signed in has one, and only their own
(someone else's notification answers like a missing one: 404), and their own e-mail
choices."""

from __future__ import annotations

from cyberqms.platform.core.tests.matrix import EVERYONE, SELF, Expect

EXPECTATIONS: dict[str, Expect] = {
    "notifications:inbox": SELF,
    "notifications:open": Expect(EVERYONE, ok=405, kwargs={"notification_id": 999999}),
    "notifications:read_all": Expect(EVERYONE, ok=405),
    "notifications:email": SELF,
    "api:notification_list": Expect(EVERYONE, anonymous=401),
    "api:notification_read": Expect(
        EVERYONE, ok=404, anonymous=401, method="post", kwargs={"notification_id": 999999},
        body={},
    ),
    "api:notification_read_all": Expect(EVERYONE, anonymous=401, method="post", body={}),
}
