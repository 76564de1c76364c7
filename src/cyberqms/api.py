"""The REST API under /api/v1/: authentication, the gate decorator and problem+json errors.

Operations authenticate with a session (browser, CSRF-checked) or a bearer token, and
each passes the access gate for the action declared with `@gate(action)` as soon as the
caller is authenticated, before its input is parsed (a caller without the right gets
403, never a 400 or 422 about the body). A test walks every operation and fails when one
lacks a declared action.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import HttpBearer, SessionAuth

from cyberqms.platform.core.access import AccessDenied, RateLimited
from cyberqms.platform.core.api_gate import authorize_declared
from cyberqms.platform.core.client_address import request_client_address
from cyberqms.platform.core.context import current_context, set_context
from cyberqms.platform.core.problems import document_problems, problem_response
from cyberqms.platform.kit.attachments import AttachmentIntegrityError
from cyberqms.platform.kit.signatures import SigningError
from cyberqms.platform.kit.workflow import SegregationOfDuties, TransitionNotAllowed
from cyberqms.platform.trail.keys import KeyFileError
from cyberqms.platform.trail.log import SealRefusedError
from cyberqms.web.api_docs import ShellDocs

logger = logging.getLogger("cyberqms.api")

F = TypeVar("F", bound=Callable[..., Any])


class TokenAuth(HttpBearer):
    """Bearer tokens: the holder becomes the actor, limited to the token's scopes.

    A request that presents credentials in `Authorization` is judged on them alone: an
    unknown, expired or malformed token is a 401 on every method, never a fall-through to
    the session (where a POST would be refused as a CSRF failure instead)."""

    def __call__(self, request: HttpRequest) -> Any:
        presented = request.headers.get(self.header)
        if presented is None:
            return None
        scheme, _, token = presented.strip().partition(" ")
        if scheme.lower() != self.openapi_scheme or not token.strip():
            raise AuthenticationError(401, "malformed Authorization header")
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from cyberqms.platform.accounts.services import token_authenticate

        api_token = token_authenticate(token, request_client_address(request))
        if api_token is None:
            raise AuthenticationError(401, "unknown or expired token")
        set_context(current_context().with_token(api_token.pk, frozenset(api_token.scopes)))
        holder = api_token.holder
        request.user = holder  # type: ignore[assignment]  # integrations act as the user
        authorize_declared(request, holder)
        return holder


class ActiveSessionAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if user.is_authenticated and user.is_active:
            authorize_declared(request, user)
            return user
        return None


class ProblemDocumentedAPI(NinjaAPI):
    """The API whose schema documents every error an operation can answer, as the one
    `Problem` shape (core.problems.document_problems), so clients and the schemathesis run
    over the whole API (core/tests/test_api_fuzz.py) know every status to expect."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_problems(schema)
        return schema


api = ProblemDocumentedAPI(
    title="cyberqms API",
    version="1",
    description=(
        "Quality records, audit trail and security monitoring of cyberqms. Authenticate "
        "with a session cookie (and X-CSRFToken) or `Authorization: Bearer <token>`. Errors "
        "are RFC 9457 problem details (application/problem+json)."
    ),
    urls_namespace="api",
    auth=[TokenAuth(), ActiveSessionAuth()],
    docs=ShellDocs(),  # in the app shell, under the strict CSP (web/api_docs.py)
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _loc_to_field(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload")]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def _validation_problem(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": _loc_to_field(err.get("loc", ())), "message": str(err.get("msg", "invalid"))}
        for err in exc.errors
    ]
    fields = ", ".join(e["field"] for e in errors)
    return problem_response(422, f"Invalid input: {fields}.", errors=errors)


@api.exception_handler(ValidationError)
def _service_problem(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": field, "message": message}
        for field, messages in exc.message_dict.items()
        for message in messages
    ] if hasattr(exc, "error_dict") else [{"field": "__all__", "message": m} for m in exc.messages]
    return problem_response(422, errors[0]["message"], errors=errors)


@api.exception_handler(AuthenticationError)
def _authentication_problem(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        401,
        "Authentication required: a session or a valid bearer token.",
        headers={"WWW-Authenticate": 'Bearer realm="cyberqms"'},
    )


@api.exception_handler(AccessDenied)
def _access_problem(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return problem_response(
        403, f"Not allowed: {exc.decision.reason}.", action=exc.decision.action
    )


@api.exception_handler(RateLimited)
def _rate_problem(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    return problem_response(
        429, exc.detail, headers={"Retry-After": str(exc.retry_after)},
        retry_after=exc.retry_after,
    )


@api.exception_handler(TransitionNotAllowed)
def _conflict_problem(request: HttpRequest, exc: TransitionNotAllowed) -> HttpResponse:
    return problem_response(
        409, str(exc), title="Not possible in this state", state=exc.state,
        allowed_actions=exc.allowed,
    )


@api.exception_handler(SigningError)
def _signing_problem(request: HttpRequest, exc: SigningError) -> HttpResponse:
    # `attempts_left`: failed attempts before the lockout, where this one counted (P11-33).
    extra: dict[str, Any] = (
        {} if exc.attempts_left is None else {"attempts_left": exc.attempts_left}
    )
    return problem_response(
        403, exc.text, title="Signature refused",
        errors=[{"field": exc.field, "message": exc.text}], **extra,
    )


@api.exception_handler(SegregationOfDuties)
def _segregation_problem(request: HttpRequest, exc: SegregationOfDuties) -> HttpResponse:
    return problem_response(403, exc.text, title="Segregation of duties")


@api.exception_handler(PermissionDenied)
def _permission_problem(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    # Refusals raised by services outside the gate (deciding one's own extension request).
    return problem_response(403, str(exc) or "Not allowed.")


@api.exception_handler(AttachmentIntegrityError)
def _attachment_problem(request: HttpRequest, exc: AttachmentIntegrityError) -> HttpResponse:
    logger.error("attachment integrity failure: %s", exc)
    return problem_response(409, f"Integrity failure: {exc}.", title="Attachment altered")


@api.exception_handler(OverflowError)
def _overflow_problem(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # A number too large for the database (SQLite raises OverflowError on binding).
    return problem_response(
        422, "A number in the request is out of range.",
        errors=[{"field": "__all__", "message": "number out of range"}],
    )


@api.exception_handler(DataError)
def _data_problem(request: HttpRequest, exc: DataError) -> HttpResponse:
    return problem_response(
        422, "A value in the request is out of range for the database.",
        errors=[{"field": "__all__", "message": "value out of range"}],
    )


@api.exception_handler(SealRefusedError)
def _seal_problem(request: HttpRequest, exc: SealRefusedError) -> HttpResponse:
    return problem_response(
        409, f"Nothing was sealed: {exc}. IT security has been alerted.",
        title="Audit trail integrity failure", seq=exc.seq,
    )


@api.exception_handler(KeyFileError)
def _key_problem(request: HttpRequest, exc: KeyFileError) -> HttpResponse:
    logger.error("trail signing key unavailable: %s", exc)
    return problem_response(503, "The audit-trail signing key is unavailable; it was logged.")


@api.exception_handler(Http404)
def _not_found_problem(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(404, "No such resource, or it is not visible to you.")


@api.exception_handler(RequestDataTooBig)
def _too_big_problem(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return problem_response(
        413, "The request body is too large.", errors=[{"field": "body", "message": str(exc)}]
    )


@api.exception_handler(HttpError)
def _http_problem(request: HttpRequest, exc: HttpError) -> HttpResponse:
    detail = str(exc)
    errors = None
    if exc.status_code == 400 and "parse" in detail.lower():
        detail = "The request body is not valid JSON."
        errors = [{"field": "body", "message": "malformed JSON"}]
    return problem_response(exc.status_code, detail, errors=errors)


@api.exception_handler(Exception)
def _server_problem(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled API error", exc_info=exc)
    ctx = current_context()
    return problem_response(
        500,
        "An internal error occurred; it was logged.",
        correlation_id=ctx.correlation_id,
    )


def _register_routers() -> None:
    from cyberqms.platform.accounts.api import router as accounts_router
    from cyberqms.platform.kit.api import router as records_router
    from cyberqms.platform.kit.family_api import family_router
    from cyberqms.platform.kit.records import all_kinds
    from cyberqms.platform.notifications.api import router as notifications_router
    from cyberqms.platform.trail.api import router as trail_router
    from cyberqms.quality.training.api import router as training_router
    from cyberqms.security.monitoring.api import router as monitoring_router
    from cyberqms.web.api import router as system_router

    api.add_router("/", system_router)
    api.add_router("/", accounts_router)
    api.add_router("/", trail_router)
    api.add_router("/", records_router)
    api.add_router("/", notifications_router)
    api.add_router("/", monitoring_router)
    api.add_router("/", training_router)
    for kind in all_kinds():
        if kind.on_kit:
            api.add_router("/", family_router(kind))
            if kind.own_api:
                api.add_router("/", importlib.import_module(kind.own_api).router)


_register_routers()

__all__ = ["api"]
