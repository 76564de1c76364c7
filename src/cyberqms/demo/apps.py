from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "cyberqms.demo"
    label = "demo"
    verbose_name = "Demo organization"

    def ready(self) -> None:
        from cyberqms.security.drills.scenarios import register_scenarios

        from .drills import plant_drill_scenarios

        register_scenarios(plant_drill_scenarios)
