"""Reads of the deviation's own: the CAPAs it spawned, the security alert or incident it
names."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast

from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.kit.references import Referenced, reference_find, reference_options

from .models import Deviation

TYPE_NAME = "deviations.deviation"
CAPA_TYPE = "capa.capa"
# What a security reference may name (audited types, by name: no import of those apps),
# in people's words; and the note of the link that mirrors it on both records.
SECURITY_TYPES = {"incidents.incident": "Security incident", "monitoring.alert": "Security alert"}
REFERENCE_NOTE = "Security reference"


def capa_links(deviation: Deviation) -> QuerySet[RecordLink]:
    """Current "spawned" links from this deviation to CAPA records."""
    return RecordLink.objects.filter(
        removed_at__isnull=True, from_type=TYPE_NAME, from_id=str(deviation.pk),
        to_type=CAPA_TYPE, relation="spawned",
    )


def with_capa_link(rows: QuerySet[Deviation]) -> QuerySet[Deviation]:
    """`rows` carrying `has_capa_link` (whether `capa_links` finds one): what the closure's
    guard reads, for many deviations in the one query that reads them."""
    return rows.annotate(has_capa_link=Exists(RecordLink.objects.filter(
        removed_at__isnull=True, from_type=TYPE_NAME,
        from_id=Cast(OuterRef("pk"), output_field=CharField()),
        to_type=CAPA_TYPE, relation="spawned",
    )))


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


def security_options(actor: Any, site: Any, query: str = "") -> list[Referenced]:
    """The security alerts and incidents at `site` that `actor` may see, matching `query`
    (number or title), newest first: the picker's suggestions."""
    return reference_options(SECURITY_TYPES, actor, Deviation(site=site), query=query)


def security_record(deviation: Deviation, actor: Any = None) -> Referenced | None:
    """The alert or incident the deviation's security reference names (with `actor`: only
    when the actor may see it), or None."""
    if not deviation.security_reference:
        return None
    return reference_find(SECURITY_TYPES, deviation.security_reference, deviation, actor)
