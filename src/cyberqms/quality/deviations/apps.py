from django.apps import AppConfig


class DeviationsConfig(AppConfig):
    name = "cyberqms.quality.deviations"
    label = "deviations"
    verbose_name = "Deviations"

    def ready(self) -> None:
        from cyberqms.platform.kit.records import register_family

        from .family import DEVIATIONS

        register_family(DEVIATIONS, own_actions={
            "approve_critical": "Approve a critical deviation (QA manager)",
        })
