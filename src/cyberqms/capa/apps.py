from django.apps import AppConfig


class CapaConfig(AppConfig):
    name = "cyberqms.capa"
    label = "capa"
    verbose_name = "CAPA"

    def ready(self) -> None:
        from django.urls import reverse

        from cyberqms.core.records import RecordKind, declare_record_actions, register_kind
        from cyberqms.trail.queries import add_child_provider
        from cyberqms.trail.registry import register

        from .enums import CapaState
        from .models import Capa, CapaAction
        from .queries import action_children
        from .workflow import CAPA_WORKFLOW

        declare_record_actions(
            "capa", "CAPA", {"verify": "Record the result of a CAPA effectiveness check"}
        )
        register(Capa, "capa.capa", view_action="capa.view", label=lambda r: r.label,
                 detail_url=lambda r: reverse("capa:detail", args=[r.pk]))
        # Actions are read through their CAPA's history tab (the child provider).
        register(CapaAction, "capa.action", view_action="trail.entry.view",
                 label=lambda a: a.label,
                 detail_url=lambda a: reverse("capa:detail", args=[a.capa_id]))
        add_child_provider(action_children)
        register_kind(RecordKind(
            slug="capa", model=Capa, workflow=CAPA_WORKFLOW, prefix="CAPA", label="CAPA",
            action_prefix="capa", closed_states=(CapaState.CLOSED, CapaState.CANCELLED),
            detail_url_name="capa:detail",
        ))
