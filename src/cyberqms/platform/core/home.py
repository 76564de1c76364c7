"""What apps add to a person's home page: their open tasks (training to do, say) and panels
of what needs attention (resilience: the last backup, restore test and drill). The shell
(`web.tasks_list`, `web.views.home`) asks every registered provider; core names no app."""

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


@dataclass(frozen=True)
class HomePanel:
    """A panel of the home page's side column: its template and what it shows."""

    template: str
    context: dict[str, Any]
    order: int = 100


PanelProvider = Callable[[Any], "HomePanel | None"]
_PANELS: list[PanelProvider] = []


def register_home_panel(provider: PanelProvider) -> None:
    """`provider(person)` gives the panel the person sees, or None (not theirs)."""
    if provider not in _PANELS:
        _PANELS.append(provider)


def home_panels(person: Any) -> list[HomePanel]:
    found = [panel for provider in _PANELS if (panel := provider(person)) is not None]
    return sorted(found, key=lambda p: p.order)


def register_home_tasks(provider: TaskProvider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def registered_task_providers() -> list[TaskProvider]:
    return list(_PROVIDERS)
