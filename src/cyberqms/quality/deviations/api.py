"""The deviation's own API operation: spawning a CAPA (list, create, detail and update are
the record kit's, transitions and the shared parts /api/v1/records/deviations/…)."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from cyberqms.platform.core.api_gate import api_actor, gate
from cyberqms.platform.kit.api_gate import api_record
from cyberqms.platform.kit.records import kind_of

from . import services

router = Router(tags=["Deviations"])


class SpawnCapaIn(Schema):
    title: str
    owner: str = Field(description="Username of the CAPA owner")
    due_date: dt.date | None = None
    description: str = ""


class SpawnedCapaOut(Schema):
    id: int
    number: str
    title: str
    state: str
    url: str


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model()._default_manager.filter(username=username.strip()).first()
    if user is None:
        raise ValidationError({"owner": [f"No user {username!r}."]})
    return user


@router.post("/deviations/{deviation_id}/capa", response={201: SpawnedCapaOut},
             operation_id="deviation_spawn_capa")
@gate("deviations.edit")
def deviation_spawn_capa(
    request: HttpRequest, deviation_id: int, payload: SpawnCapaIn
) -> Status:
    """Open a CAPA from the deviation; both records show the "spawned" link."""
    deviation = api_record(request, "deviations", deviation_id, for_="edit")
    capa = services.deviation_spawn_capa(
        deviation, actor=api_actor(request), title=payload.title,
        owner=_user(payload.owner), due_date=payload.due_date, description=payload.description,
    )
    return Status(201, {"id": capa.pk, "number": capa.number, "title": capa.title,
                        "state": capa.state, "url": kind_of(capa).detail_url(capa)})
