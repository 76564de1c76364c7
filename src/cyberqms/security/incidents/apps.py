from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "cyberqms.security.incidents"
    label = "incidents"
    verbose_name = "Security incidents"

    def ready(self) -> None:
        from cyberqms.platform.kit.record_pages import register_page_links
        from cyberqms.platform.kit.records import register_family
        from cyberqms.security.monitoring.notices import alert_created

        from .family import INCIDENTS
        from .queries import chain_page_links
        from .tasks import escalate_on_commit

        register_family(INCIDENTS)
        alert_created.connect(escalate_on_commit, dispatch_uid="incidents.escalate")
        # Incident, deviation, CAPA and change pages link to the chain they belong to.
        register_page_links(chain_page_links)
        from cyberqms.assets.systems.posture import register_posture_source, register_related

        from .system_posture import incidents_posture, system_incidents

        register_posture_source(incidents_posture)
        register_related(system_incidents)
