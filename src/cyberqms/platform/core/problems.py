"""RFC 9457 problem details, the one error shape of the API (application/problem+json)."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpResponse

CONTENT_TYPE = "application/problem+json"


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> HttpResponse:
    """Build a problem+json response; ``errors`` lists ``{"field": ..., "message": ...}``."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extensions)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# The answers an operation can give besides its own, with what each means here. Which of
# them an operation documents follows from its shape (`problem_statuses`), so a new
# operation is documented by being declared, never by hand.
PROBLEM_STATUSES: dict[int, str] = {
    400: "The request body is not valid JSON (or not a form where a form is expected).",
    401: "Authentication required: no session, or an unknown, expired or malformed "
         "bearer token.",
    403: "Refused by the access gate, a signature check or segregation of duties.",
    404: "No such resource, or it is not visible to you.",
    409: "Not possible in the resource's current state, or it changed meanwhile.",
    413: "The request body is too large.",
    422: "Invalid input: `errors` names each field.",
    429: "Too many rejected credentials from this client address; retry after "
         "`Retry-After` seconds.",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. Extension members (`action`, `state`, "
                   "`allowed_actions`, `correlation_id` …) add what the client can act on.",
    "type": "object",
    "properties": {
        "type": {"type": "string", "description": "A URI naming the problem type."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

_WRITES = frozenset({"post", "put", "patch", "delete"})


def problem_statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an OpenAPI operation can answer, from its shape: 401, 403 and
    429 behind authentication; 422 with any input and for any write (a service may refuse
    it as invalid); 404 with a path parameter; 400 and 413 with a body; 409 for a write;
    and any error status the operation declared itself (`openapi_extra`)."""
    statuses = {int(code) for code in operation.get("responses", {}) if int(code) >= 400}
    parameters = operation.get("parameters") or []
    body = "requestBody" in operation
    write = method.lower() in _WRITES
    if operation.get("security"):
        statuses |= {401, 403, 429}
    if parameters or body or write:
        statuses.add(422)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if body:
        statuses |= {400, 413}
    if write:
        statuses.add(409)
    return statuses


def document_problems(openapi: dict[str, Any]) -> None:
    """Add the `Problem` schema and each operation's error statuses to an OpenAPI
    document, every one as application/problem+json (in place)."""
    openapi.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in openapi.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(problem_statuses(method, operation)):
                declared = responses.pop(status, None) or responses.pop(str(status), None) or {}
                responses[status] = {
                    "description": declared.get("description")
                    or PROBLEM_STATUSES.get(status, HTTPStatus(status).phrase),
                    "content": problem,
                }
