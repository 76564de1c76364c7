"""API shapes of a change's implementation tasks. Inputs forbid unknown fields so typos are
refused."""

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field


class StrictInput(Schema):
    model_config = ConfigDict(extra="forbid")


class TaskIn(StrictInput):
    description: str
    owner: str = Field(description="Username of the task owner")
    due_date: dt.date | None = None


class TaskCompleteIn(StrictInput):
    note: str = ""


class ReasonIn(StrictInput):
    reason: str


class TaskOut(Schema):
    id: int
    description: str
    owner: str
    due_date: dt.date | None
    state: str
    completed_at: dt.datetime | None
    note: str
