from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "cyberqms.security.drills"
    label = "drills"
    verbose_name = "Attack drills"

    def ready(self) -> None:
        from cyberqms.platform.core.home import register_home_panel
        from cyberqms.platform.core.scheduler import every
        from cyberqms.platform.kit.records import register_family

        from .family import DRILLS
        from .home import resilience_panel

        register_family(DRILLS)
        register_home_panel(resilience_panel)
        every("drills.due", "cyberqms.security.drills.services.due_interval",
              "cyberqms.security.drills.services.drills_due",
              "run the drills whose planned time has come")
