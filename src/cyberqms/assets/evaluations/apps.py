from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "cyberqms.assets.evaluations"
    label = "evaluations"
    verbose_name = "Periodic evaluations"

    def ready(self) -> None:
        from cyberqms.assets.systems.posture import register_related
        from cyberqms.platform.kit.record_pages import register_page_links
        from cyberqms.platform.kit.records import register_family

        from .family import EVALUATIONS
        from .system_links import start_link, system_evaluations

        register_family(EVALUATIONS)
        register_page_links(start_link)
        register_related(system_evaluations)
