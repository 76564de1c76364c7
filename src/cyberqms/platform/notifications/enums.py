from django.db import models


class NotificationKind(models.TextChoices):
    ASSIGNMENT = "assignment", "Assignment"
    APPROVAL_DUE = "approval_due", "Approval due"
    OVERDUE = "overdue", "Overdue"
    EXTENSION = "extension", "Extension"
    ALERT = "alert", "Security alert"
    INFO = "info", "Information"


# What also comes by e-mail for someone who has not chosen: whatever asks them to act, and
# security alerts; plain information stays in the inbox.
DEFAULT_EMAIL_KINDS = frozenset({
    NotificationKind.ASSIGNMENT, NotificationKind.APPROVAL_DUE, NotificationKind.OVERDUE,
    NotificationKind.EXTENSION, NotificationKind.ALERT,
})
