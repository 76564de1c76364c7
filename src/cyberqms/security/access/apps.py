from django.apps import AppConfig


class AccessConfig(AppConfig):
    """Access that follows real use: how each right is used (from the access-decision
    log), the declared segregation-of-duties matrix, and leavers disabled on their date."""

    name = "cyberqms.security.access"
    label = "access"
    verbose_name = "Access governance"

    def ready(self) -> None:
        from cyberqms.assets.systems.posture import register_posture_source
        from cyberqms.platform.core.scheduler import every
        from cyberqms.platform.trail.registry import register

        from . import actions  # noqa: F401  (declares the actions)
        from .models import SystemAccount
        from .system_views import accounts_posture

        register(SystemAccount, "access.system_account", view_action="systems.view",
                 label=lambda a: f"{a.account} in {a.system.number}")
        register_posture_source(accounts_posture)

        every("access.leavers", "cyberqms.platform.accounts.employment.leavers_interval",
              "cyberqms.platform.accounts.employment.leavers_disable",
              "disable the accounts of people whose leaver date has come")
        every("access.usage", "cyberqms.security.access.usage.fold_interval",
              "cyberqms.security.access.usage.usage_fold",
              "count the use of each right from the new access decisions")
