from django.db import models


class IncidentState(models.TextChoices):
    OPEN = "open", "Open"
    ASSESSMENT = "assessment", "Impact assessment"
    QA_REVIEW = "qa_review", "QA review"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
