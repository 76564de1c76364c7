from django.apps import AppConfig


class CapaConfig(AppConfig):
    name = "cyberqms.quality.capa"
    label = "capa"
    verbose_name = "CAPA"

    def ready(self) -> None:
        from django.urls import reverse

        from cyberqms.platform.kit.records import register_family
        from cyberqms.platform.trail.queries import add_child_provider
        from cyberqms.platform.trail.registry import register

        from .family import CAPA
        from .models import CapaAction
        from .queries import action_children

        # Actions are read through their CAPA's history tab (the child provider).
        register(CapaAction, "capa.action", view_action="trail.entry.view",
                 label=lambda a: a.label,
                 detail_url=lambda a: reverse("capa:detail", args=[a.capa_id]))
        add_child_provider(action_children)
        register_family(CAPA, own_actions={
            "verify": "Record the result of a CAPA effectiveness check",
        })
