"""What is a deviation's own among the writes: its named entry points on the kit, and
spawning a CAPA. Transitions are `DEVIATION_WORKFLOW.run(deviation, action, …)`.

Side effects common to the writes: one audit entry per change (`deviations.deviation.*`),
notices on commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from cyberqms.platform.core.access import Actor, require
from cyberqms.platform.kit.record_parts import link_create
from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import kind_by_slug

from .enums import DeviationState
from .family import SPAWN_STATES
from .models import Deviation
from .queries import capa_links

S = DeviationState


def deviation_create(*, actor: Actor, site: Any, **values: Any) -> Deviation:
    """Record a deviation in draft (the kit's `record_create` with the deviation's fields).

    Side effects: audit entry `deviations.deviation.create`; a link to the security
    record when `security_reference` is a record number; an assignment notice to the
    owner when it is not the actor.
    """
    deviation = record_create(kind_by_slug("deviations"), actor=actor, site=site, values=values)
    assert isinstance(deviation, Deviation)
    return deviation


def deviation_update(
    deviation: Deviation, *, actor: Actor, changes: dict[str, Any], reason: str = ""
) -> Deviation:
    """Change the fields the current state allows (the kit's `record_update`); a reason
    once out of draft. Side effects: audit entry `deviations.deviation.edit|update`."""
    return record_update(deviation, actor=actor, changes=changes, reason=reason)


def deviation_spawn_capa(
    deviation: Deviation,
    *,
    actor: Actor,
    title: str,
    owner: Any,
    due_date: dt.date | None,
    description: str = "",
) -> Any:
    """Open a CAPA from this deviation and link the two (relation "spawned", seen on both).

    The CAPA starts in draft with source "deviation", the deviation's number as its
    source reference and its cyber-related flag. Allowed while the deviation is
    investigated, reviewed or approved.
    Side effects: the CAPA's create audit entry (`capa.capa.create`); audit entry
    `core.link.add` for the link, in both records' histories.
    """
    from cyberqms.quality.capa.services import capa_create

    require(actor, "deviations.edit", deviation)
    if deviation.is_deleted or deviation.state not in SPAWN_STATES:
        raise ValidationError({"__all__": [
            "A CAPA is spawned once the deviation is under investigation, in QA review or "
            f"approved; {deviation.number} is {S(deviation.state).label.lower()}."
        ]})
    with transaction.atomic():
        capa = capa_create(
            actor=actor, site=deviation.site, title=title, owner=owner,
            source="deviation", source_reference=deviation.number, due_date=due_date,
            description=description or f"Raised from deviation {deviation.label}.",
            cyber_related=deviation.cyber_related,
            # The CAPA starts from what the deviation established.
            problem_statement=deviation.description,
            root_cause=(
                f"{deviation.get_root_cause_category_display()}: {deviation.root_cause}"
                if deviation.root_cause_category else deviation.root_cause
            ),
        )
        # capa_create links a source record it can resolve; make sure the link exists.
        if not capa_links(deviation).filter(to_id=str(capa.pk)).exists():
            link_create(deviation, capa, actor=actor, relation="spawned",
                        note=f"CAPA from {deviation.number}")
    return capa
