"""Inbox pages: the list, opening one notification (marks it read), marking all read,
choosing which notifications also come by e-mail."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from cyberqms.platform.core.access import Actor
from cyberqms.platform.core.keyset import request_page
from cyberqms.platform.core.pages import gated

from . import actions, queries, services
from .forms import EmailChoiceForm, InboxFilterForm

PER_PAGE = 25


@gated(actions.INBOX_VIEW)
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    unread = queries.unread_count(request.user)
    if not form.is_valid():
        return render(request, "notifications/inbox.html", {
            "form": form, "page": None, "unread": unread, "unread_notifications": unread,
        }, status=400)
    filters = form.filters()
    rows = queries.inbox(request.user, **filters)
    page = request_page(request, rows, PER_PAGE)
    return render(request, "notifications/inbox.html", {
        # The top bar's badge shows the same count: no second query for it.
        "form": form, "page": page, "unread": unread, "unread_notifications": unread,
        "filtered": any(filters.values()),
    }, status=400 if page.error else 200)


@require_POST
@gated(actions.INBOX_MARK)
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark the notification read and go to its record (or back to the inbox)."""
    notification = queries.access_notification(request.user, notification_id)
    services.notification_mark_read(notification)
    if notification.url and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(notification.url)
    return redirect("notifications:inbox")


@require_POST
@gated(actions.INBOX_MARK)
def read_all(request: HttpRequest) -> HttpResponse:
    marked = services.notifications_mark_all_read(request.user)
    messages.success(request, f"{marked} notification{'' if marked == 1 else 's'} marked read.")
    return redirect("notifications:inbox")


@gated(actions.EMAIL_CHOOSE)
def email_settings(request: HttpRequest) -> HttpResponse:
    """Which kinds of notification also come by e-mail (one's own choice)."""
    if request.method == "POST":
        form = EmailChoiceForm(request.POST)
        if form.is_valid():
            # gated: a signed-in person, never the anonymous user
            actor = cast(Actor, request.user)
            try:
                services.notification_email_choose(actor=actor, kinds=form.cleaned_data["kinds"])
            except ValidationError as exc:
                for error in exc.message_dict.get("kinds", exc.messages):
                    form.add_error("kinds", error)
            else:
                messages.success(request, "Your e-mail choices are saved.")
                return redirect("notifications:email")
        return render(request, "notifications/email_settings.html", {"form": form}, status=400)
    form = EmailChoiceForm(initial={"kinds": services.email_kinds_of(request.user)})
    return render(request, "notifications/email_settings.html", {"form": form})
