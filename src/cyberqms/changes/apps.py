from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "cyberqms.changes"
    label = "changes"
    verbose_name = "Change control"

    def ready(self) -> None:
        from django.urls import reverse

        from cyberqms.core.records import RecordKind, declare_record_actions, register_kind
        from cyberqms.trail.queries import add_child_provider
        from cyberqms.trail.registry import register

        from .models import Change, ChangeTask
        from .workflow import CHANGE_WORKFLOW

        declare_record_actions("changes", "change", {
            "security_approve":
                "Approve the cybersecurity impact of a change (IT security, e-signature)",
        })
        register(
            Change, "changes.change", view_action="changes.view", label=lambda r: r.label,
            detail_url=lambda r: reverse("changes:detail", args=[r.pk]),
        )
        # Tasks are read through their change's history tab (the child provider below).
        register(ChangeTask, "changes.task", view_action="trail.entry.view",
                 label=lambda t: t.label,
                 detail_url=lambda t: reverse("changes:detail", args=[t.change_id]))
        register_kind(RecordKind(
            slug="changes", model=Change, workflow=CHANGE_WORKFLOW, prefix="CC",
            label="Change", action_prefix="changes", closed_states=("closed", "cancelled"),
            detail_url_name="changes:detail",
        ))
        add_child_provider(_tasks_of)


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
