from __future__ import annotations

from typing import Any

from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.core import context as allauth_context
from django import forms
from django.conf import settings

from cyberqms.platform.core.access import ACTIONS

from .enums import AccountKind, IntegrationKind, Role, WorkPattern
from .first_sign_in import password_entered_recently
from .models import Department, Site, User
from .time_zones import zone_choices


class ReasonField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 500)
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "Why? (recorded)"}))
        kwargs.setdefault("help_text", "Recorded with your name and the time.")
        super().__init__(**kwargs)


class UserCreateForm(forms.Form):
    username = forms.RegexField(regex=r"^[A-Za-z0-9_.@+-]+$", max_length=150, min_length=2)
    full_name = forms.CharField(max_length=200, label="Full printed name")
    email = forms.EmailField()
    title = forms.CharField(max_length=200, required=False, label="Job title")
    kind = forms.ChoiceField(choices=AccountKind.choices, initial=AccountKind.PERSON)
    work_pattern = forms.ChoiceField(
        choices=WorkPattern.choices, initial=WorkPattern.DAY,
        help_text="Security monitoring expects night and weekend work only from shift "
                  "workers and service accounts.",
    )
    site = forms.ModelChoiceField(Site.objects.filter(is_active=True), required=False)
    department = forms.ModelChoiceField(
        Department.objects.filter(is_active=True).select_related("site"), required=False
    )
    reason = ReasonField()


class ReasonForm(forms.Form):
    reason = ReasonField()


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    site = forms.ModelChoiceField(
        Site.objects.filter(is_active=True), required=False, empty_label="All sites"
    )
    valid_until = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=f"Required for auditors (at most {settings.CYBERQMS_AUDITOR_MAX_DAYS} days).",
    )
    approval_ref = forms.CharField(
        label="Approved by record", max_length=40, required=False,
        help_text="The number of the approved change control (CC-…) that authorises the "
                  "grant; without one, access governance raises a finding.")
    reason = ReasonField()


class ApprovalForm(forms.Form):
    approval_ref = forms.CharField(label="Approved by record", max_length=40)
    reason = ReasonField()


class EmploymentForm(forms.Form):
    manager = forms.ModelChoiceField(
        User.objects.filter(is_active=True, kind="person").order_by("full_name", "username"),
        required=False, empty_label="No manager",
        help_text="Reviews this person's access in access reviews.")
    leaver_at = forms.DateTimeField(
        label="Leaves on", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="The account is disabled at this moment.")
    employee_id = forms.CharField(label="Employee id", max_length=64, required=False,
                                  help_text="The person's id in the HR system.")
    reason = ReasonField()


class IdentityForm(forms.Form):
    method = forms.CharField(
        max_length=200, help_text="E.g. photo ID checked in person by HR."
    )


class SiteForm(forms.Form):
    code = forms.RegexField(regex=r"^[A-Za-z0-9-]+$", max_length=20)
    name = forms.CharField(max_length=200)
    country = forms.CharField(max_length=2, required=False)
    time_zone = forms.CharField(max_length=64, initial="UTC")


class DepartmentForm(forms.Form):
    site = forms.ModelChoiceField(Site.objects.filter(is_active=True))
    code = forms.RegexField(regex=r"^[A-Za-z0-9-]+$", max_length=20)
    name = forms.CharField(max_length=200)


class IntegrationForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=IntegrationKind.choices)
    system = forms.CharField(max_length=200)
    site = forms.ModelChoiceField(Site.objects.filter(is_active=True), required=False)
    allowed_addresses = forms.CharField(
        required=False, help_text="Comma-separated addresses or CIDR ranges; empty for any."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_allowed_addresses(self) -> list[str]:
        import ipaddress

        raw = self.cleaned_data["allowed_addresses"]
        entries = [e.strip() for e in raw.split(",") if e.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise forms.ValidationError(f"{entry!r} is not an address or range.") from None
        return entries


def scope_choices() -> list[tuple[str, str]]:
    return [(name, f"{name} — {spec.description}") for name, spec in sorted(ACTIONS.items())
            if not spec.public]


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        choices=zone_choices, label="Time zone",
        help_text="Pages show dates and times in this zone; hover over one to see it in UTC. "
                  "Exports and the API stay in UTC.",
    )


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(choices=scope_choices, widget=forms.CheckboxSelectMultiple)
    days = forms.IntegerField(min_value=1, max_value=settings.CYBERQMS_TOKEN_MAX_DAYS, initial=30)


class ChangePasswordForm(AllauthChangePasswordForm):
    """allauth's password change (ACCOUNT_FORMS), less the current password where a forced
    change follows the sign-in with the one-time password moments ago: it was typed in
    this session within the re-authentication window (first_sign_in). A change the person
    chose, or one after that window, asks for it. The new password is never the current
    one: a one-time password, which an administrator issued, cannot be kept (P11-28)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = allauth_context.request
        user = self.user
        if (user is not None and user.must_change_password and request is not None
                and password_entered_recently(request, user)):
            del self.fields["oldpassword"]

    def clean_password1(self) -> str:
        password: str = self.cleaned_data["password1"]
        if self.user is not None and self.user.check_password(password):
            raise forms.ValidationError("Choose a password other than your current one.")
        return password
