from django.apps import AppConfig


class DeviationsConfig(AppConfig):
    name = "cyberqms.deviations"
    label = "deviations"
    verbose_name = "Deviations"

    def ready(self) -> None:
        from django.urls import reverse

        from cyberqms.core.records import RecordKind, declare_record_actions, register_kind
        from cyberqms.trail.registry import register

        from .models import Deviation
        from .workflow import DEVIATION_WORKFLOW

        declare_record_actions("deviations", "deviation", None)
        register(
            Deviation, "deviations.deviation", view_action="deviations.view",
            label=lambda r: r.label,
            detail_url=lambda r: reverse("deviations:detail", args=[r.pk]),
        )
        register_kind(RecordKind(
            slug="deviations", model=Deviation, workflow=DEVIATION_WORKFLOW, prefix="DEV",
            label="Deviation", action_prefix="deviations",
            closed_states=("closed", "cancelled"), detail_url_name="deviations:detail",
        ))
