"""The overview's least-privilege actions: accept a suggestion (its change control is
raised and opened), and apply the role changes of an approved one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from cyberqms.platform.accounts import actions as account_actions
from cyberqms.platform.accounts.models import User
from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.words import problem_text

from . import actions
from .models import PrivilegeChange
from .privilege_changes import change_kind, privilege_change_apply, suggestion_propose


@gated(actions.PROPOSE)
@require_POST
def propose(request: HttpRequest) -> HttpResponse:
    post = request.POST
    try:
        pc = suggestion_propose(actor=page_actor(request), role=post.get("role", ""),
                                site=post.get("site", ""), action=post.get("action", ""))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, problem_text(exc))
        return redirect(reverse("governance:overview") + "#least-privilege")
    messages.success(request, f"{pc.change_number} raised in draft: complete its impact "
                              "assessment and submit it. The role changes apply once it "
                              "is approved.")
    return redirect(reverse(change_kind().detail_url_pattern, args=[pc.change_id]))


@gated(account_actions.ROLE_MANAGE)
@require_POST
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    pc = get_object_or_404(PrivilegeChange, pk=pk)
    actor = request.user
    assert isinstance(actor, User), "gated pages are reached signed in"
    try:
        done = privilege_change_apply(pc, actor=actor)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, problem_text(exc))
    else:
        messages.success(request, f"{done.change_number}: {done.changed} role"
                                  f"{'s' if done.changed != 1 else ''} changed.")
    return redirect(reverse("governance:overview") + "#privilege-changes")
