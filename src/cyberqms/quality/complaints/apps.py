from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "cyberqms.quality.complaints"
    label = "complaints"
    verbose_name = "Complaints"

    def ready(self) -> None:
        from cyberqms.platform.kit.records import register_family

        from .family import COMPLAINTS

        register_family(COMPLAINTS)
