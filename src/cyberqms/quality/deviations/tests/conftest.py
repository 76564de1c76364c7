from __future__ import annotations

from typing import Any

import pytest

from .factories import a_site, ready_to_sign


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    ready_to_sign(personas["qa_manager"], personas["admin"])
    ready_to_sign(personas["qa_approver"], personas["admin"])
    return personas


@pytest.fixture
def site() -> Any:
    return a_site()
