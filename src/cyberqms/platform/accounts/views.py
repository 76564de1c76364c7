"""Pages for the administration area, the profile and security oversight.

Views parse input, call one service and render; rules live in services and the gate.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cyberqms.platform.core.access import can
from cyberqms.platform.core.csv_export import csv_response, list_filters, wants_csv
from cyberqms.platform.core.event_kinds import event_label
from cyberqms.platform.core.keyset import request_page
from cyberqms.platform.core.models import AccessDecision, SecurityEvent, Severity
from cyberqms.platform.core.pages import gated
from cyberqms.platform.trail import actions as trail_actions
from cyberqms.platform.trail.services import list_export_record, open_flags

from . import actions, employment, services
from .csv_columns import (
    ACCESS_DECISION_COLUMNS,
    INTEGRATION_COLUMNS,
    SECURITY_EVENT_COLUMNS,
    SITE_COLUMNS,
    user_columns,
)
from .enums import Role
from .forms import (
    ApprovalForm,
    DepartmentForm,
    EmploymentForm,
    IdentityForm,
    IntegrationForm,
    ReasonForm,
    RoleGrantForm,
    SiteForm,
    TimeZoneForm,
    TokenForm,
    UserCreateForm,
)
from .models import ApiToken, Department, Integration, RoleAssignment, Site, User
from .queries import locked_out, role_history, roles_held, users_filtered


def paginate(request: HttpRequest, rows: QuerySet[Any], per_page: int = 25) -> Page[Any]:
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def _service_errors(form: Any, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


# --- profile ------------------------------------------------------------------------------


@gated(actions.SELF)
def profile(request: HttpRequest) -> HttpResponse:
    return _profile_page(request)


def _profile_page(request: HttpRequest, *, time_zone_form: TimeZoneForm | None = None,
                  status: int = 200) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # gated: signed-in users only
    tokens = ApiToken.objects.filter(owner=user)
    return render(request, "accounts/profile.html", {
        "profile_user": user,
        "roles": user.active_roles(),
        "tokens": tokens,
        "token_form": TokenForm(),
        "time_zone_form": time_zone_form or TimeZoneForm(
            initial={"time_zone": user.time_zone or settings.TIME_ZONE}),
        "idle_minutes": settings.SESSION_IDLE_SECONDS // 60,
    }, status=status)


@require_POST
@gated(actions.SELF)
def profile_time_zone(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # gated: signed-in users only
    form = TimeZoneForm(request.POST)
    if form.is_valid():
        try:
            services.user_time_zone_set(user, actor=user,
                                        time_zone=form.cleaned_data["time_zone"])
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, "Dates and times now show in "
                                      f"{user.time_zone.replace('_', ' ')}.")
            return redirect("accounts:profile")
    return _profile_page(request, time_zone_form=form, status=422)


@gated(actions.SELF)
def token_create(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # gated: signed-in users only
    form = TokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.token_create(
                actor=user, owner=user, name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"], days=form.cleaned_data["days"],
            )
        except ValidationError as exc:
            _service_errors(form, exc)
    return render(request, "accounts/token_create.html", {"form": form, "issued": issued})


@require_POST
@gated(actions.SELF)
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # gated: signed-in users only
    token = get_object_or_404(ApiToken, pk=token_id, owner=user)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.token_revoke(token, actor=user, reason=form.cleaned_data["reason"])
            messages.success(request, f"Token {token.name} revoked.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "Give a reason to revoke the token.")
    return redirect("accounts:profile")


# --- users ----------------------------------------------------------------------------------


@gated(actions.USER_VIEW)
def user_list(request: HttpRequest) -> HttpResponseBase:
    filters = {
        "q": request.GET.get("q", "").strip()[:100],
        "role": request.GET.get("role", "") if request.GET.get("role") in Role.values else "",
        "site": request.GET.get("site", "")[:20],
        "status": request.GET.get("status", "") if request.GET.get("status") in (
            "active", "inactive") else "",
        "sort": request.GET.get("sort", "username"),
    }
    users = users_filtered(**filters)
    locked = set(locked_out().values_list("username", flat=True))
    if wants_csv(request):
        list_export_record(actor=request.user, name="accounts.users", label="users",
                           filters=list_filters(request), rows=users.count())
        return csv_response("users.csv", user_columns({n.lower() for n in locked}), users)
    page = paginate(request, users)
    return render(request, "accounts/user_list.html", {
        "page": page, "filters": filters, "roles": Role.choices,
        "sites": Site.objects.all(), "locked": locked,
        "can_manage": can(request.user, actions.USER_MANAGE),
    })


@gated(actions.USER_MANAGE)
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = services.user_create(
                actor=request.user,  # type: ignore[arg-type]  # gated: signed-in users only
                username=data["username"], full_name=data["full_name"], email=data["email"],
                title=data["title"], kind=data["kind"], site=data["site"],
                department=data["department"], reason=data["reason"],
                work_pattern=data["work_pattern"],
            )
        except ValidationError as exc:
            _service_errors(form, exc)
    return render(request, "accounts/user_create.html", {"form": form, "issued": issued})


@gated(actions.USER_VIEW)
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    subject = get_object_or_404(User.objects.select_related("site", "department", "manager"),
                                pk=user_id)
    locked = locked_out().filter(username=subject.username.lower()).exists()
    return render(request, "accounts/user_detail.html", {
        "subject": subject,
        "current_roles": roles_held(subject),
        "history": role_history(subject),
        "tokens": ApiToken.objects.filter(owner=subject),
        "locked": locked,
        "grant_form": RoleGrantForm(),
        "employment_form": EmploymentForm(initial={
            "manager": subject.manager_id, "employee_id": subject.employee_id,
            "leaver_at": timezone.localtime(subject.leaver_at).strftime("%Y-%m-%dT%H:%M")
            if subject.leaver_at else None}),
        "reason_form": ReasonForm(),
        "identity_form": IdentityForm(),
        "can_manage": can(request.user, actions.USER_MANAGE),
        "can_grant": can(request.user, actions.ROLE_MANAGE),
        "events": SecurityEvent.objects.filter(username=subject.username)[:10],
        "issued_password": request.session.pop("issued_password", None),
        "integrity_flags": open_flags("accounts.user", subject.pk),
        "can_history": can(request.user, trail_actions.HISTORY_VIEW),
    })


OPERATIONS = {"deactivate", "reactivate", "reset-password", "unlock", "grant-role",
              "verify-identity", "employment"}


@require_POST
@gated(actions.USER_MANAGE)
def user_operation(request: HttpRequest, user_id: int, operation: str) -> HttpResponse:
    if operation not in OPERATIONS:
        raise Http404
    subject = get_object_or_404(User, pk=user_id)
    actor: User = request.user  # type: ignore[assignment]  # gated: signed-in users only
    form: Any
    if operation == "grant-role":
        form = RoleGrantForm(request.POST)
    elif operation == "employment":
        form = EmploymentForm(request.POST)
    elif operation == "verify-identity":
        form = IdentityForm(request.POST)
    else:
        form = ReasonForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect("accounts:user_detail", user_id=subject.pk)
    data = form.cleaned_data
    try:
        if operation == "deactivate":
            services.user_deactivate(subject, actor=actor, reason=data["reason"])
            messages.success(request, f"{subject.username} is deactivated; sessions and tokens "
                                      "stopped working.")
        elif operation == "reactivate":
            issued = services.user_reactivate(subject, actor=actor, reason=data["reason"])
            request.session["issued_password"] = [subject.username, issued.password]
        elif operation == "reset-password":
            issued = services.user_reset_password(subject, actor=actor, reason=data["reason"])
            request.session["issued_password"] = [subject.username, issued.password]
        elif operation == "unlock":
            services.user_unlock(subject.username, actor=actor, reason=data["reason"])
            messages.success(request, f"{subject.username} is unlocked.")
        elif operation == "grant-role":
            services.role_grant(
                subject, data["role"], actor=actor, reason=data["reason"], site=data["site"],
                valid_until=data["valid_until"], approval_ref=data["approval_ref"],
            )
            messages.success(request, "Role granted.")
        elif operation == "employment":
            employment.user_employment_set(
                subject, actor=actor, reason=data["reason"], manager=data["manager"],
                leaver_at=data["leaver_at"], employee_id=data["employee_id"])
            messages.success(request, "Manager, leaving date and employee id saved.")
        elif operation == "verify-identity":
            services.user_verify_identity(subject, actor=actor, method=data["method"])
            messages.success(request, "Identity verification recorded.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("accounts:user_detail", user_id=subject.pk)


@require_POST
@gated(actions.ROLE_MANAGE)
def role_revoke(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = get_object_or_404(RoleAssignment, pk=assignment_id)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.role_revoke(
                assignment,
                actor=request.user,  # type: ignore[arg-type]  # gated: signed-in users only
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, "Role revoked.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "Give a reason to revoke the role.")
    return redirect("accounts:user_detail", user_id=assignment.user_id)


@require_POST
@gated(actions.ROLE_MANAGE)
def role_approval(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Name the change control that approved a role grant made without one."""
    assignment = get_object_or_404(RoleAssignment, pk=assignment_id)
    form = ApprovalForm(request.POST)
    if form.is_valid():
        try:
            employment.role_approval_link(
                assignment,
                actor=request.user,  # type: ignore[arg-type]  # gated: signed-in users only
                approval_ref=form.cleaned_data["approval_ref"],
                reason=form.cleaned_data["reason"])
            messages.success(request, "Approval recorded.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "Give the approving record and a reason.")
    return redirect("accounts:user_detail", user_id=assignment.user_id)


# --- sites and integrations -----------------------------------------------------------------


@gated(actions.SITE_MANAGE)
def site_list(request: HttpRequest) -> HttpResponseBase:
    if request.method == "GET" and wants_csv(request):
        sites = Site.objects.prefetch_related("departments")
        list_export_record(actor=request.user, name="accounts.sites", label="sites",
                           filters=list_filters(request), rows=sites.count())
        return csv_response("sites.csv", SITE_COLUMNS, sites)
    site_form = SiteForm(request.POST if request.POST.get("form") == "site" else None)
    department_form = DepartmentForm(
        request.POST if request.POST.get("form") == "department" else None
    )
    actor: User = request.user  # type: ignore[assignment]  # gated: signed-in users only
    if request.method == "POST":
        try:
            if site_form.is_bound and site_form.is_valid():
                services.site_create(actor=actor, **site_form.cleaned_data)
                messages.success(request, "Site created.")
                return redirect("accounts:site_list")
            if department_form.is_bound and department_form.is_valid():
                services.department_create(actor=actor, **department_form.cleaned_data)
                messages.success(request, "Department created.")
                return redirect("accounts:site_list")
        except ValidationError as exc:
            _service_errors(site_form if site_form.is_bound else department_form, exc)
    return render(request, "accounts/site_list.html", {
        "sites": Site.objects.prefetch_related("departments"),
        "departments": Department.objects.select_related("site"),
        "site_form": site_form, "department_form": department_form,
    })


@gated(actions.INTEGRATION_VIEW)
def integration_list(request: HttpRequest) -> HttpResponseBase:
    if request.method == "GET" and wants_csv(request):
        integrations = Integration.objects.select_related("site").prefetch_related("tokens")
        list_export_record(actor=request.user, name="accounts.integrations",
                           label="integrations", filters=list_filters(request),
                           rows=integrations.count())
        return csv_response("integrations.csv", INTEGRATION_COLUMNS, integrations)
    actor: User = request.user  # type: ignore[assignment]  # gated: signed-in users only
    form = IntegrationForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            integration = services.integration_create(actor=actor, **data)
            issued = services.token_create(
                actor=actor, integration=integration, name=f"{integration.name} ingest",
                scopes=["*"], days=settings.CYBERQMS_TOKEN_MAX_DAYS,
            )
        except ValidationError as exc:
            _service_errors(form, exc)
    return render(request, "accounts/integration_list.html", {
        "integrations": Integration.objects.select_related("site").prefetch_related("tokens"),
        "form": form, "issued": issued,
        "can_manage": can(actor, actions.INTEGRATION_MANAGE),
    })


# --- security oversight ---------------------------------------------------------------------


@gated(actions.EVENT_VIEW)
def security_events(request: HttpRequest) -> HttpResponseBase:
    events = SecurityEvent.objects.all()
    severity = request.GET.get("severity", "")
    kind = request.GET.get("kind", "")[:80]
    q = request.GET.get("q", "")[:100]
    if severity in Severity.values:
        levels = list(Severity.values)
        events = events.filter(severity__in=levels[levels.index(severity):])
    if kind:
        events = events.filter(kind__startswith=kind)
    if q:
        events = events.filter(username__icontains=q) | events.filter(message__icontains=q)
    if wants_csv(request):
        list_export_record(actor=request.user, name="security.events",
                           label="security events", filters=list_filters(request),
                           rows=events.count())
        return csv_response("security-events.csv", SECURITY_EVENT_COLUMNS, events)
    kinds = SecurityEvent.objects.order_by("kind").values_list("kind", flat=True).distinct()
    page = request_page(request, events, 50)
    return render(request, "accounts/security_events.html", {
        "page": page, "severities": Severity.choices,
        "kinds": [(k, event_label(k)) for k in kinds],
        "filters": {"severity": severity, "kind": kind, "q": q},
    }, status=400 if page.error else 200)


@gated(actions.DECISION_VIEW)
def access_decisions(request: HttpRequest) -> HttpResponseBase:
    decisions = AccessDecision.objects.all()
    verdict = request.GET.get("verdict", "")
    actor = request.GET.get("actor", "")[:150]
    action = request.GET.get("action", "")[:100]
    if verdict in ("allow", "deny"):
        decisions = decisions.filter(allowed=verdict == "allow")
    if actor:
        decisions = decisions.filter(actor_username__icontains=actor)
    if action:
        decisions = decisions.filter(action__startswith=action)
    if wants_csv(request):
        list_export_record(actor=request.user, name="access.decisions",
                           label="access decisions", filters=list_filters(request),
                           rows=decisions.count())
        return csv_response("access-decisions.csv", ACCESS_DECISION_COLUMNS, decisions)
    page = request_page(request, decisions, 50)
    return render(request, "accounts/access_decisions.html", {
        "page": page,
        "filters": {"verdict": verdict, "actor": actor, "action": action},
    }, status=400 if page.error else 200)
