"""Actions of the notification inbox, declared to the access gate.

Both are self-service: everyone signed in has an inbox, and every query and service
narrows to the actor's own notifications, so nobody can see or mark anyone else's.
"""

from cyberqms.platform.core.access import declare

INBOX_VIEW = declare(
    "notifications.inbox.view", "See one's own notifications", self_service=True
)
INBOX_MARK = declare(
    "notifications.inbox.mark", "Mark one's own notifications read", self_service=True
)
