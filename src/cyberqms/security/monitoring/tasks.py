"""Background work of monitoring, run by the `db_worker` process."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from cyberqms.platform.core.context import RequestContext, acting_context


@task
def apply_retention() -> dict[str, Any]:
    """The daily retention run (`retention.py`): months made ahead, expired events removed."""
    from .retention import apply

    with acting_context(RequestContext(channel="task")):
        run = apply()
    return {"removed": run.total, "kept": run.kept, "months_dropped": run.months_dropped,
            "months_made": run.months_made}
