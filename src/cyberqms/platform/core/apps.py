from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cyberqms.platform.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .guards import installed_after_migrate

        post_migrate.connect(installed_after_migrate, dispatch_uid="core.kept_forever")
