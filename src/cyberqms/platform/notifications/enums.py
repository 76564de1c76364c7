from django.db import models


class NotificationKind(models.TextChoices):
    ASSIGNMENT = "assignment", "Assignment"
    APPROVAL_DUE = "approval_due", "Approval due"
    OVERDUE = "overdue", "Overdue"
    EXTENSION = "extension", "Extension"
    INFO = "info", "Information"
