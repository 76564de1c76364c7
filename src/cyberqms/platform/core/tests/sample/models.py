from django.conf import settings
from django.db import models


class Sample(models.Model):
    state = models.CharField(max_length=20, default="draft")
    title = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+", verbose_name="owner")
    checked = models.BooleanField(default=False)
    closed_reason = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title
