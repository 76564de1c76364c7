"""Actions of the notification inbox, declared to the access gate.

All are self-service: everyone signed in has an inbox and chooses what comes by e-mail,
and every query and service narrows to the actor's own notifications and settings, so
nobody can see, mark or choose for anyone else.
"""

from cyberqms.platform.core.access import declare

INBOX_VIEW = declare(
    "notifications.inbox.view", "See one's own notifications", self_service=True,
    read=True,
)
INBOX_MARK = declare(
    "notifications.inbox.mark", "Mark one's own notifications read", self_service=True
)
EMAIL_CHOOSE = declare(
    "notifications.email.choose", "Choose which of one's notifications come by e-mail",
    self_service=True,
)
