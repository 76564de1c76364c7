"""What apps add to a person's home page: their open tasks (training to do, say). The shell
(`web.tasks_list`) asks every registered provider; core names no app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OpenTask:
    title: str
    detail: str
    url: str
    priority: str  # "high", "medium", "low"
    due: Any = None
    first: str = ""  # what must be done before the step can be taken, in words


TaskProvider = Callable[[Any], list[OpenTask]]
_PROVIDERS: list[TaskProvider] = []


def register_home_tasks(provider: TaskProvider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def registered_task_providers() -> list[TaskProvider]:
    return list(_PROVIDERS)
