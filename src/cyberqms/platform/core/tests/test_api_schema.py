"""The API schema documents every error an operation can answer, each as the one `Problem`
shape in application/problem+json (core.problems.document_problems); schemathesis holds
the answers to it (test_api_fuzz.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    from cyberqms.api import api

    # The document the endpoint serves, rendered the same way without a request.
    return dict(api.get_openapi_schema(path_prefix="/api/v1/"))


def statuses(schema: dict[str, Any], path: str, method: str) -> list[str]:
    return sorted(str(code) for code in schema["paths"][path][method]["responses"])


def test_the_served_schema_names_the_problem_shape() -> None:
    served = Client().get("/api/v1/openapi.json").json()
    assert served["components"]["schemas"]["Problem"]["required"] == [
        "type", "title", "status", "detail"]


def test_a_write_on_a_record_documents_every_problem_it_can_answer(
        schema: dict[str, Any]) -> None:
    assert statuses(schema, "/api/v1/deviations/{record_id}/update", "post") == [
        "200", "400", "401", "403", "404", "409", "413", "422", "429"]


def test_a_list_with_parameters_documents_authentication_and_input_problems(
        schema: dict[str, Any]) -> None:
    assert statuses(schema, "/api/v1/users", "get") == ["200", "401", "403", "422", "429"]


def test_a_read_without_input_documents_authentication_problems_only(
        schema: dict[str, Any]) -> None:
    assert statuses(schema, "/api/v1/sites", "get") == ["200", "401", "403", "429"]


def test_a_write_without_input_may_still_be_refused_as_invalid(schema: dict[str, Any]) -> None:
    assert statuses(schema, "/api/v1/trail/checkpoints", "post") == [
        "200", "201", "401", "403", "409", "422", "429"]


def test_the_public_health_check_documents_no_problem(schema: dict[str, Any]) -> None:
    assert statuses(schema, "/api/v1/health", "get") == ["200"]


def test_each_problem_is_problem_json_with_its_meaning(schema: dict[str, Any]) -> None:
    assert schema["paths"]["/api/v1/users/{user_id}"]["get"]["responses"][404] == {
        "description": "No such resource, or it is not visible to you.", "content": PROBLEM}


def test_a_problem_an_operation_declares_keeps_its_own_meaning(schema: dict[str, Any]) -> None:
    assert schema["paths"]["/api/v1/trail/checkpoints/latest"]["get"]["responses"][404] == {
        "description": "No checkpoint has been sealed yet.", "content": PROBLEM}
