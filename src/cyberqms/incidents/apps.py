from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "cyberqms.incidents"
    label = "incidents"
    verbose_name = "Security incidents"

    def ready(self) -> None:
        from cyberqms.core.record_pages import register_page_links
        from cyberqms.core.records import register_family
        from cyberqms.monitoring.notices import alert_created

        from .family import INCIDENTS
        from .queries import chain_page_links
        from .tasks import escalate_on_commit

        register_family(INCIDENTS)
        alert_created.connect(escalate_on_commit, dispatch_uid="incidents.escalate")
        # Incident, deviation, CAPA and change pages link to the chain they belong to.
        register_page_links(chain_page_links)
