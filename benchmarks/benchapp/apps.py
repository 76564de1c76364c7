from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "benchapp"
    label = "benchapp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from benchapp.models import Audited
        from cyberqms.platform.trail.registry import register

        register(Audited, "bench.audited", view_action="bench.view", label=lambda r: r.title)
