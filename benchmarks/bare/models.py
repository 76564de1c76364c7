from django.db import models


class Row(models.Model):
    title = models.CharField(max_length=200)
    state = models.CharField(max_length=20)

    def __str__(self) -> str:
        return self.title
