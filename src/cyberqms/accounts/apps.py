from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cyberqms.accounts"
    label = "accounts"
    verbose_name = "Accounts and access"

    def ready(self) -> None:
        from . import actions, signals  # noqa: F401  (declares actions, connects receivers)
