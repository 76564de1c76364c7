from django.apps import AppConfig


class RisksConfig(AppConfig):
    name = "cyberqms.assets.risks"
    label = "risks"
    verbose_name = "Risk assessments"

    def ready(self) -> None:
        from cyberqms.platform.core.scheduler import every
        from cyberqms.platform.kit.records import register_family

        from .family import RISKS

        register_family(RISKS)
        every("risks.expiry", "cyberqms.assets.risks.workflow.expiry_interval",
              "cyberqms.assets.risks.workflow.expire_acceptances",
              "take risk assessments whose acceptance expired back to review")
