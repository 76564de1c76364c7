"""Reads of the deviation's own: the CAPAs it spawned."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from cyberqms.platform.core.models import RecordLink

from .models import Deviation

TYPE_NAME = "deviations.deviation"
CAPA_TYPE = "capa.capa"


def capa_links(deviation: Deviation) -> QuerySet[RecordLink]:
    """Current "spawned" links from this deviation to CAPA records."""
    return RecordLink.objects.filter(
        removed_at__isnull=True, from_type=TYPE_NAME, from_id=str(deviation.pk),
        to_type=CAPA_TYPE, relation="spawned",
    )


def linked_capas(deviation: Deviation) -> list[Any]:
    """The CAPA records this deviation spawned (empty while the CAPA family is absent)."""
    from cyberqms.platform.kit.records import kind_by_type

    ids = list(capa_links(deviation).values_list("to_id", flat=True))
    if not ids:
        return []
    try:
        kind = kind_by_type(CAPA_TYPE)
    except LookupError:
        return []
    return list(kind.model._default_manager.filter(pk__in=ids).order_by("number"))
