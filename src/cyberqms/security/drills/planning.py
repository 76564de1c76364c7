"""Drills cyberqms plans by itself: from the command line (`drill run`), where no person
signs in, the drill is recorded for the site's IT-security owner, as a finding is."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cyberqms.platform.accounts.models import Site
from cyberqms.platform.core.access import people_able
from cyberqms.platform.kit.records import next_number
from cyberqms.platform.trail.record import audit_record

from .enums import DrillState
from .models import Drill
from .scenarios import DrillScenario
from .services import TYPE

REVIEW_DAYS = 7


def drill_plan(scenario: DrillScenario, *, site_code: str = "", announced: bool = True,
               title: str = "") -> Drill:
    """A drill of `scenario`, planned by cyberqms, owned by the site's first holder of
    `drills.work`.

    Side effects: audit entry `drills.drill.create`.
    :raises ValidationError: naming the site when there is no such site or nobody there
        may run drills.
    """
    sites = Site.objects.filter(is_active=True).order_by("code")
    site = sites.filter(code=site_code.upper()).first() if site_code else sites.first()
    if site is None:
        raise ValidationError({"site": [f"No active site {site_code or ''}".strip() + "."]})
    owner: Any = people_able("drills.work", [site.pk]).order_by("pk").first()
    if owner is None:
        raise ValidationError({"site": [f"Nobody at {site.code} may run drills "
                                        "(drills.work)."]})
    drill = Drill(title=(title or f"Drill: {scenario.title}")[:200], kind=scenario.kind,
                  scenario=scenario.id, announced=announced, site=site, owner=owner,
                  originator=owner, state=DrillState.PLANNED,
                  due_date=timezone.localdate() + dt.timedelta(days=REVIEW_DAYS),
                  description=scenario.description[:10000])
    drill.full_clean(exclude=["number"])
    with transaction.atomic():
        drill.number = next_number("DRL")
        drill.save()
        audit_record(f"{TYPE}.create", drill, actor=None, created=True,
                     reason="Planned from the command line")
    return drill
