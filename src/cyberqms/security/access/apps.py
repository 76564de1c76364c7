from django.apps import AppConfig


class AccessConfig(AppConfig):
    """Access that follows real use: how each right is used (from the access-decision
    log), the declared segregation-of-duties matrix, and leavers disabled on their date."""

    name = "cyberqms.security.access"
    label = "access"
    verbose_name = "Access governance"

    def ready(self) -> None:
        from cyberqms.platform.core.scheduler import every

        from . import actions  # noqa: F401  (declares the actions)

        every("access.leavers", "cyberqms.platform.accounts.employment.leavers_interval",
              "cyberqms.platform.accounts.employment.leavers_disable",
              "disable the accounts of people whose leaver date has come")
        every("access.usage", "cyberqms.security.access.usage.fold_interval",
              "cyberqms.security.access.usage.usage_fold",
              "count the use of each right from the new access decisions")
