"""SCIM 2.0 (RFC 7643, RFC 7644) for HR and identity providers (Entra ID, Okta): joiners,
movers and leavers provisioned into cyberqms, under /scim/v2/.

- **Users** are people. The mapping is:
  - `userName` is the username;
  - `name.formatted` or `displayName` is the printed name;
  - `emails`, `title`, and `active` (false: the account is deactivated at once, sessions
    and tokens stop);
  - `externalId` or the enterprise `employeeNumber` is the employee id;
  - the enterprise `manager.value` is the manager's SCIM id;
  - the enterprise `division` is the home site's code, and `department` its department
    code.

  DELETE deactivates; people are never deleted (P11-21).
- **Groups** are roles: `qa_reviewer` (every site) or `qa_reviewer@BSL`. Adding a member
  grants the role; removing one revokes it.

Every call authenticates with the bearer token of a registered integration, holding the
scope `accounts.scim.provision` and the account rights it uses (`accounts.user.manage`,
`accounts.role.manage`). Every change goes through the account services, audited as the
integration's. A request is applied whole or not at all. Errors are SCIM's own error
messages (`application/scim+json`, RFC 7644 §3.12): identity providers read those, not
problem+json.

Payloads are read with scim2-models, the SCIM resources as pydantic models. Filters are
the equality ones identity providers send (`userName`, `externalId`, `emails.value`,
`displayName eq "…"`); others answer `invalidFilter`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError as PydanticError
from scim2_models import Context, EnterpriseUser
from scim2_models import User as ScimUser

from cyberqms.platform.accounts import employment
from cyberqms.platform.accounts import services as accounts
from cyberqms.platform.accounts.enums import AccountKind, Role
from cyberqms.platform.accounts.models import (
    Department,
    Integration,
    RoleAssignment,
    Site,
    User,
)
from cyberqms.platform.core.access import AccessDenied, require
from cyberqms.platform.core.client_address import request_client_address
from cyberqms.platform.core.context import current_context, set_context
from cyberqms.platform.core.pages import gated

from . import actions

ENDPOINT = actions.SCIM_ENDPOINT
PROVISION = actions.SCIM_PROVISION
CONTENT_TYPE = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_RESULTS = 200
_FILTER = re.compile(r'^\s*(userName|externalId|emails\.value|displayName)\s+eq\s+'
                     r'"((?:[^"\\]|\\.){0,254})"\s*$', re.IGNORECASE)
_MEMBER_PATH = re.compile(r'^members\[\s*value\s+eq\s+"([^"]{1,20})"\s*\]$', re.IGNORECASE)


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str = "") -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def _answer(body: dict[str, Any] | None, status: int = 200) -> HttpResponse:
    return HttpResponse(b"" if body is None else json.dumps(body, default=str),
                        status=status, content_type=CONTENT_TYPE)


def _error(exc: ScimError) -> HttpResponse:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(exc.status),
                            "detail": exc.detail}
    if exc.scim_type:
        body["scimType"] = exc.scim_type
    return _answer(body, exc.status)


def _integration(request: HttpRequest) -> Integration:
    """The integration whose bearer token the request carries, allowed to provision."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ScimError(401, "Authenticate with an integration's bearer token.")
    token = accounts.token_authenticate(secret.strip(), request_client_address(request))
    if token is None or token.integration_id is None:
        raise ScimError(401, "Unknown or expired token, or not an integration's.")
    set_context(current_context().with_token(token.pk, frozenset(token.scopes)))
    integration = token.integration
    assert integration is not None  # token_has_one_holder: an integration's token
    try:
        require(integration, PROVISION)
    except AccessDenied as exc:
        raise ScimError(403, "The token may not provision people (scope "
                        "accounts.scim.provision).") from exc
    return integration


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        found = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScimError(400, "The body is not JSON.", "invalidSyntax") from exc
    if not isinstance(found, dict):
        raise ScimError(400, "The body is a JSON object.", "invalidSyntax")
    return found


def scim_view(handler: Any) -> Any:
    """Authenticate, run `handler(request, integration, **kwargs)` in one transaction,
    and answer every refusal as a SCIM error."""

    @csrf_exempt
    @gated(ENDPOINT)
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            integration = _integration(request)
            with transaction.atomic():
                return handler(request, integration, **kwargs)
        except ScimError as exc:
            return _error(exc)
        except PermissionDenied as exc:
            return _error(ScimError(403, str(exc) or "Not allowed."))
        except ValidationError as exc:
            field = next(iter(getattr(exc, "message_dict", {}) or {}), "")
            text = " ".join(exc.messages)
            return _error(ScimError(400, f"{field}: {text}" if field and field != "__all__"
                                    else text, "invalidValue"))

    view.__name__ = view.__qualname__ = handler.__name__
    return view


# --- users ---------------------------------------------------------------------------------


def _location(request: HttpRequest, kind: str, pk: object) -> str:
    return request.build_absolute_uri(f"/scim/v2/{kind}/{pk}")


def _user_out(request: HttpRequest, user: User) -> dict[str, Any]:
    held = RoleAssignment.objects.held_on(timezone.now()).filter(user=user).select_related("site")
    out: dict[str, Any] = {
        "schemas": [CORE, ENTERPRISE], "id": str(user.pk), "userName": user.username,
        "name": {"formatted": user.full_name}, "displayName": user.printed_name,
        "title": user.title, "active": user.is_active,
        "emails": [{"value": user.email, "type": "work", "primary": True}]
        if user.email else [],
        "groups": [{"value": _group_id(a.role, a.site.code if a.site else ""),
                    "display": _group_name(a.role, a.site.code if a.site else "")}
                   for a in held],
        ENTERPRISE: {"employeeNumber": user.employee_id,
                     "division": user.site.code if user.site else "",
                     "department": user.department.code if user.department else "",
                     **({"manager": {"value": str(user.manager_id)}}
                        if user.manager_id else {})},
        "meta": {"resourceType": "User", "created": user.date_joined,
                 "location": _location(request, "Users", user.pk)},
    }
    if user.employee_id:
        out["externalId"] = user.employee_id
    return out


def _users() -> Any:
    return User.objects.select_related("site", "department").filter(
        kind=AccountKind.PERSON)


def _user(pk: str) -> User:
    found = _users().filter(pk=int(pk)).first() if pk.isdigit() and len(pk) < 19 else None
    if found is None:
        raise ScimError(404, f"No user {pk!r}.")
    return found


def _parse_user(body: dict[str, Any]) -> dict[str, Any]:
    """The attributes cyberqms keeps, from a SCIM User (RFC 7643 §4.1, with the enterprise
    extension), validated by scim2-models."""
    try:
        parsed = ScimUser[EnterpriseUser].model_validate(body, scim_ctx=Context.DEFAULT)
    except PydanticError as exc:
        raise ScimError(400, f"Not a SCIM User: {exc.errors()[0]['msg']}",
                        "invalidValue") from exc
    values: dict[str, Any] = {}
    if parsed.user_name is not None:
        values["username"] = parsed.user_name.strip()
    name = (parsed.name.formatted if parsed.name and parsed.name.formatted
            else parsed.display_name)
    if name is not None:
        values["full_name"] = name
    if parsed.title is not None:
        values["title"] = parsed.title
    if parsed.active is not None:
        values["active"] = bool(parsed.active)
    if parsed.emails:
        primary = next((e for e in parsed.emails if e.primary), parsed.emails[0])
        values["email"] = str(primary.value or "")
    if parsed.external_id is not None:
        values["employee_id"] = parsed.external_id
    extension = parsed[EnterpriseUser] if ENTERPRISE in body else None
    if extension is not None:
        if extension.employee_number is not None:
            values["employee_id"] = extension.employee_number
        if extension.manager is not None:
            values["manager"] = extension.manager.value or ""
        if extension.division is not None:
            values["site"] = extension.division
        if extension.department is not None:
            values["department"] = extension.department
    return values


def _manager(value: str) -> User | None:
    if not value:
        return None
    found = _users().filter(pk=int(value)).first() if value.isdigit() and len(value) < 19 \
        else None
    if found is None:
        raise ScimError(400, f"manager: no user {value!r}.", "invalidValue")
    return found


def _apply(user: User, values: dict[str, Any], integration: Integration) -> User:
    """Bring `user` to `values` through the account services."""
    why = f"SCIM provisioning by {integration.name}"
    hr: dict[str, Any] = {k: values[k] for k in ("full_name", "email", "title", "employee_id")
                          if k in values}
    if "manager" in values:
        hr["manager"] = _manager(values["manager"])
    if "site" in values or "department" in values:
        _place(user, values, integration)
    if hr and user.is_active:
        user = employment.user_employment_set(user, actor=integration, reason=why, **hr)
    if values.get("active") is False and user.is_active:
        user = accounts.user_deactivate(user, actor=integration,  # type: ignore[arg-type]
                                        reason=f"{why}: account disabled by HR")
    elif values.get("active") is True and not user.is_active:
        raise ScimError(400, "A deactivated account is reactivated in cyberqms (with a new "
                        "one-time password), not over SCIM.", "mutability")
    return user


def _place(user: User, values: dict[str, Any], integration: Integration) -> None:
    site_code = values.get("site", user.site.code if user.site else "")
    site = Site.objects.filter(code=site_code, is_active=True).first() if site_code else None
    if site_code and site is None:
        raise ScimError(400, f"division: no site {site_code!r}.", "invalidValue")
    code = values.get("department", "")
    department = Department.objects.filter(site=site, code=code).first() if code else None
    if code and department is None:
        raise ScimError(400, f"department: no department {code!r} at {site_code}.",
                        "invalidValue")
    if (user.site_id, user.department_id) != (getattr(site, "pk", None),
                                              getattr(department, "pk", None)):
        employment.user_place_set(user, actor=integration, site=site, department=department,
                                  reason=f"SCIM provisioning by {integration.name}")


def users(request: HttpRequest, integration: Integration) -> HttpResponse:
    if request.method == "POST":
        return _create(request, integration)
    if request.method != "GET":
        raise ScimError(405, "GET or POST.")
    found = _users().order_by("pk")
    text = request.GET.get("filter", "")
    if text:
        match = _FILTER.match(text)
        if match is None:
            raise ScimError(400, "Supported filters: userName, externalId, emails.value or "
                            'displayName eq "value".', "invalidFilter")
        attribute, value = match.group(1).lower(), match.group(2).replace('\\"', '"')
        field = {"username": "username__iexact", "externalid": "employee_id",
                 "emails.value": "email__iexact", "displayname": "full_name"}[attribute]
        found = found.filter(**{field: value})
    start = _positive(request.GET.get("startIndex", "1"), "startIndex")
    count = min(_positive(request.GET.get("count", str(MAX_RESULTS)), "count", zero=True),
                MAX_RESULTS)
    total = found.count()
    page = list(found[start - 1:start - 1 + count]) if count else []
    return _answer({"schemas": [LIST], "totalResults": total, "startIndex": start,
                    "itemsPerPage": len(page),
                    "Resources": [_user_out(request, u) for u in page]})


def _positive(text: str, name: str, *, zero: bool = False) -> int:
    if not text.isdigit() or len(text) > 9 or (int(text) < 1 and not zero):
        raise ScimError(400, f"{name} is a positive whole number.", "invalidValue")
    return int(text)


def _create(request: HttpRequest, integration: Integration) -> HttpResponse:
    values = _parse_user(_body(request))
    username = values.get("username", "")
    if not username:
        raise ScimError(400, "userName is required.", "invalidValue")
    if User.objects.filter(username__iexact=username).exists():
        raise ScimError(409, f"userName {username!r} exists or existed.", "uniqueness")
    issued = accounts.user_create(
        actor=integration, username=username,  # type: ignore[arg-type]
        full_name=values.get("full_name") or username, email=values.get("email", ""),
        title=values.get("title", ""), reason=f"SCIM provisioning by {integration.name}")
    user = _apply(issued.user, {k: v for k, v in values.items()
                                if k not in ("username", "full_name", "email", "title")},
                  integration)
    return _answer(_user_out(request, _user(str(user.pk))), 201)


def user(request: HttpRequest, integration: Integration, pk: str) -> HttpResponse:
    person = _user(pk)
    if request.method == "GET":
        return _answer(_user_out(request, person))
    if request.method == "DELETE":
        _apply(person, {"active": False}, integration)
        return _answer(None, 204)
    if request.method == "PUT":
        values = _parse_user(_body(request))
        if values.get("username", person.username).lower() != person.username.lower():
            raise ScimError(400, "userName cannot change (P11-21).", "mutability")
        values.pop("username", None)
    elif request.method == "PATCH":
        values = _patched(person, _body(request))
    else:
        raise ScimError(405, "GET, PUT, PATCH or DELETE.")
    person = _apply(person, values, integration)
    return _answer(_user_out(request, _user(str(person.pk))))


_PATHS = {"active": "active", "title": "title", "displayname": "full_name",
          "name.formatted": "full_name", "externalid": "employee_id",
          "emails": "email", 'emails[type eq "work"].value': "email",
          f"{ENTERPRISE}:employeenumber".lower(): "employee_id",
          f"{ENTERPRISE}:manager".lower(): "manager",
          f"{ENTERPRISE}:manager.value".lower(): "manager",
          f"{ENTERPRISE}:division".lower(): "site",
          f"{ENTERPRISE}:department".lower(): "department"}


def _operations(body: dict[str, Any]) -> list[dict[str, Any]]:
    if PATCH not in (body.get("schemas") or []):
        raise ScimError(400, f"A PATCH names the schema {PATCH}.", "invalidSyntax")
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations or len(operations) > 100:
        raise ScimError(400, "Operations: from 1 to 100 operations.", "invalidSyntax")
    for op in operations:
        if not isinstance(op, dict) or str(op.get("op", "")).lower() not in (
                "add", "replace", "remove"):
            raise ScimError(400, "Each operation is add, replace or remove.",
                            "invalidSyntax")
    return operations


def _patched(person: User, body: dict[str, Any]) -> dict[str, Any]:
    """The attributes a PATCH sets (RFC 7644 §3.5.2), read whole before any is applied."""
    values: dict[str, Any] = {}
    for op in _operations(body):
        kind, path, value = str(op["op"]).lower(), op.get("path"), op.get("value")
        if not path:
            if kind == "remove" or not isinstance(value, dict):
                raise ScimError(400, "Without a path, the value is an object of attributes.",
                                "invalidSyntax")
            values.update(_parse_user({"schemas": [CORE], **value}))
            continue
        name = _PATHS.get(str(path).lower())
        if name is None:
            raise ScimError(400, f"Path {path!r} is not one cyberqms keeps.", "invalidPath")
        if kind == "remove":
            if name in ("active", "full_name"):
                raise ScimError(400, f"{path} cannot be removed.", "mutability")
            values[name] = ""
            continue
        if name == "active":
            if not isinstance(value, bool) and str(value).lower() not in ("true", "false"):
                raise ScimError(400, "active is true or false.", "invalidValue")
            values[name] = value if isinstance(value, bool) else str(value).lower() == "true"
        elif name == "manager":
            values[name] = str(value.get("value", "") if isinstance(value, dict) else value
                               or "")
        elif name == "email" and isinstance(value, list):
            values[name] = str((value[0] or {}).get("value", "")) if value else ""
        elif isinstance(value, str | int):
            values[name] = str(value)
        else:
            raise ScimError(400, f"{path}: a text value.", "invalidValue")
    return values


# --- groups (roles) ----------------------------------------------------------------------


def _group_id(role: str, site: str) -> str:
    return f"{role}@{site}" if site else role


def _group_name(role: str, site: str) -> str:
    return f"{Role(role).label} at {site or 'every site'}"


def _group_of(group_id: str) -> tuple[str, Site | None]:
    role, _, code = group_id.partition("@")
    if role not in Role.values:
        raise ScimError(404, f"No group {group_id!r}: groups are roles (qa_reviewer, "
                        "qa_reviewer@BSL).")
    site = Site.objects.filter(code=code, is_active=True).first() if code else None
    if code and site is None:
        raise ScimError(404, f"No group {group_id!r}: no site {code!r}.")
    return role, site


def _group_out(request: HttpRequest, role: str, site: Site | None) -> dict[str, Any]:
    code = site.code if site else ""
    holders = (RoleAssignment.objects.held_on(timezone.now()).filter(role=role, site=site)
               .select_related("user").order_by("user__username"))
    return {"schemas": [GROUP], "id": _group_id(role, code),
            "displayName": _group_name(role, code),
            "members": [{"value": str(a.user_id), "display": a.user.username,
                         "$ref": _location(request, "Users", a.user_id)} for a in holders],
            "meta": {"resourceType": "Group",
                     "location": _location(request, "Groups", _group_id(role, code))}}


def groups(request: HttpRequest, integration: Integration) -> HttpResponse:
    if request.method != "GET":
        raise ScimError(405, "GET; groups are cyberqms's roles and are not created.")
    sites = [None, *Site.objects.filter(is_active=True).order_by("code")]
    found = [_group_out(request, role, site) for role in Role.values for site in sites]
    return _answer({"schemas": [LIST], "totalResults": len(found), "startIndex": 1,
                    "itemsPerPage": len(found), "Resources": found})


def group(request: HttpRequest, integration: Integration, pk: str) -> HttpResponse:
    role, site = _group_of(pk)
    if request.method == "GET":
        return _answer(_group_out(request, role, site))
    if request.method != "PATCH":
        raise ScimError(405, "GET or PATCH (members).")
    why = f"SCIM group membership by {integration.name}"
    for op in _operations(_body(request)):
        kind, path, value = str(op["op"]).lower(), str(op.get("path") or ""), op.get("value")
        removing = _MEMBER_PATH.match(path)
        if kind == "remove" and removing:
            ids = [removing.group(1)]
        elif path.lower() == "members" and isinstance(value, list):
            ids = [str(v.get("value", "")) if isinstance(v, dict) else "" for v in value]
        else:
            raise ScimError(400, "Members are added with path members and a list of "
                            '{"value": id}, removed with path members[value eq "id"].',
                            "invalidPath")
        for member in ids:
            person = _user(member)
            held = RoleAssignment.objects.held_on(timezone.now()).filter(
                user=person, role=role, site=site).first()
            if kind == "remove" and held is not None:
                accounts.role_revoke(held, actor=integration,  # type: ignore[arg-type]
                                     reason=why)
            elif kind in ("add", "replace") and held is None:
                accounts.role_grant(person, role, actor=integration,  # type: ignore[arg-type]
                                    site=site, reason=why)
    return _answer(_group_out(request, role, site))


def service_provider_config(request: HttpRequest, integration: Integration) -> HttpResponse:
    return _answer({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": True}, "bulk": {"supported": False, "maxOperations": 0,
                                               "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False}, "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [{"type": "oauthbearertoken", "name": "Bearer token",
                                   "description": "An integration's API token"}],
    })
