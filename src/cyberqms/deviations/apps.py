from django.apps import AppConfig


class DeviationsConfig(AppConfig):
    name = "cyberqms.deviations"
    label = "deviations"
    verbose_name = "Deviations"

    def ready(self) -> None:
        from cyberqms.core.records import declare_record_actions

        declare_record_actions("deviations", "deviation", None)
