from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cyberqms.platform.accounts"
    label = "accounts"
    verbose_name = "Accounts and access"

    def ready(self) -> None:
        from django.urls import reverse

        from cyberqms.platform.trail.registry import register

        from . import actions, signals  # noqa: F401  (declares actions, connects receivers)
        from .models import ApiToken, Department, Integration, RoleAssignment, Site, User

        # last_login and token usage change on every sign-in or call: not GxP changes. A
        # person's time zone is a display preference: its changes have entries of their own
        # (services.user_time_zone_set), outside the user's audited state.
        register(User, "accounts.user", view_action=actions.USER_VIEW,
                 exclude=["last_login", "time_zone"], redact=["password"],
                 label=lambda u: u.username,
                 detail_url=lambda u: reverse("accounts:user_detail", args=[u.pk]))
        register(RoleAssignment, "accounts.role", view_action=actions.USER_VIEW,
                 label=lambda a: f"{a.role} for {a.user.username}",
                 detail_url=lambda a: reverse("accounts:user_detail", args=[a.user_id]))
        register(Site, "accounts.site", view_action=actions.USER_VIEW,
                 label=lambda s: s.code)
        register(Department, "accounts.department", view_action=actions.USER_VIEW,
                 label=lambda d: d.code)
        register(Integration, "accounts.integration", view_action=actions.INTEGRATION_VIEW,
                 label=lambda i: i.name)
        register(ApiToken, "accounts.token", view_action=actions.INTEGRATION_VIEW,
                 exclude=["last_used_at", "last_used_ip"], redact=["token_hash"],
                 label=lambda t: f"{t.name} ({t.prefix})")
