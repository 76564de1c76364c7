from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "cyberqms.quality.changes"
    label = "changes"
    verbose_name = "Change control"

    def ready(self) -> None:
        from django.urls import reverse

        from cyberqms.platform.kit.records import register_family
        from cyberqms.platform.trail.queries import add_child_provider
        from cyberqms.platform.trail.registry import register

        from .family import CHANGES
        from .models import ChangeTask

        # Tasks are read through their change's history tab (the child provider below).
        register(ChangeTask, "changes.task", view_action="trail.entry.view",
                 label=lambda t: t.label,
                 detail_url=lambda t: reverse("changes:detail", args=[t.change_id]))
        add_child_provider(_tasks_of)
        register_family(CHANGES, own_actions={
            "security_approve":
                "Approve the cybersecurity impact of a change (IT security, e-signature)",
        })


def _tasks_of(record_type: str, record_id: str) -> list[tuple[str, str]]:
    if record_type != "changes.change":
        return []
    from .models import ChangeTask

    try:
        change_id = int(record_id)
    except ValueError:
        return []
    ids = ChangeTask.objects.filter(change_id=change_id).values_list("pk", flat=True)
    return [("changes.task", str(pk)) for pk in ids]
