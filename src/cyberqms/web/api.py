"""System operations of the API."""
# No "from __future__ import annotations": django-ninja resolves operation annotations
# through the gate wrapper, whose globals are not this module's.


from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

import cyberqms
from cyberqms.platform.core.api_gate import gate

from .views import database_status

router = Router(tags=["system"])


class HealthOut(Schema):
    status: str
    version: str
    database: dict[str, Any]


@router.get("/health", response=HealthOut, auth=None, operation_id="health")
@gate("system.health")
def health(request: HttpRequest) -> dict[str, Any]:
    database = database_status()
    return {"status": "ok" if database["status"] == "ok" else "degraded",
            "version": cyberqms.__version__, "database": database}
