from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "cyberqms.incidents"
    label = "incidents"
    verbose_name = "Security incidents"

    def ready(self) -> None:
        from django.urls import reverse

        from cyberqms.core.record_pages import register_page_links
        from cyberqms.core.records import RecordKind, declare_record_actions, register_kind
        from cyberqms.monitoring.notices import alert_created
        from cyberqms.trail.registry import register

        from .models import Incident
        from .queries import chain_page_links
        from .tasks import escalate_on_commit
        from .workflow import INCIDENT_WORKFLOW

        declare_record_actions("incidents", "security incident")
        register(Incident, "incidents.incident", view_action="incidents.view",
                 label=lambda r: r.label,
                 detail_url=lambda r: reverse("incidents:detail", args=[r.pk]))
        register_kind(RecordKind(
            slug="incidents", model=Incident, workflow=INCIDENT_WORKFLOW, prefix="SEC",
            label="Security incident", action_prefix="incidents",
            closed_states=("closed", "cancelled"), detail_url_name="incidents:detail",
            grants="",
            initial_state="open", deletable_states=("open",),
        ))
        alert_created.connect(escalate_on_commit, dispatch_uid="incidents.escalate")
        # Incident, deviation, CAPA and change pages link to the chain they belong to.
        register_page_links(chain_page_links)
