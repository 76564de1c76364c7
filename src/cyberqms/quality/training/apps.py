from typing import Any

from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "cyberqms.quality.training"
    label = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        from django.urls import reverse

        from cyberqms.platform.accounts.services import roles_changed, user_deactivated
        from cyberqms.platform.core.home import register_home_tasks
        from cyberqms.platform.kit.workflow import (
            add_assignee_check,
            add_step_check,
            state_changed,
        )
        from cyberqms.platform.trail.registry import register

        from . import actions  # noqa: F401  (declares the actions)
        from .gate import assignee_check, training_check
        from .models import (
            Curriculum,
            CurriculumItem,
            QuizAttempt,
            QuizQuestion,
            TrainingAssignment,
            TrainingRequirement,
        )
        from .queries import home_tasks

        register(Curriculum, "training.curriculum", view_action="training.view",
                 label=lambda c: c.name,
                 detail_url=lambda c: reverse("training:curricula"))
        register(CurriculumItem, "training.item", view_action="training.view",
                 label=lambda i: f"{i.curriculum.name}: {i.label}",
                 detail_url=lambda i: reverse("training:curricula"))
        register(TrainingAssignment, "training.assignment", view_action="training.view",
                 label=lambda a: a.label,
                 detail_url=lambda a: reverse("training:person", args=[a.person_id]))
        register(TrainingRequirement, "training.requirement", view_action="training.view",
                 label=lambda r: r.label, detail_url=lambda r: reverse("training:requirements"))
        register(QuizQuestion, "training.quiz_question", view_action="training.view",
                 label=lambda q: q.label,
                 detail_url=lambda q: reverse("training:quiz_edit", args=[q.item_id]))
        register(QuizAttempt, "training.quiz_attempt", view_action="training.view",
                 label=lambda a: a.label,
                 detail_url=lambda a: reverse("training:person", args=[a.person_id]))
        add_step_check(training_check)
        add_assignee_check(assignee_check)
        from cyberqms.platform.kit.record_pages import register_page_links

        from .chain import page_links

        register_page_links(page_links)
        state_changed.connect(_version_in_force, dispatch_uid="training.version_in_force")
        roles_changed.connect(_role_granted, dispatch_uid="training.role_granted")
        user_deactivated.connect(_person_left, dispatch_uid="training.person_left")
        register_home_tasks(home_tasks)
        from cyberqms.platform.core import scheduler

        scheduler.every("training.daily", "cyberqms.quality.training.services.daily_interval",
                        "cyberqms.quality.training.services.daily",
                        "assign retraining that has fallen due, remind overdue training")


def _version_in_force(sender: Any, *, record: Any, type_name: str, source: str,
                      target: str, **kwargs: Any) -> None:
    """A version taking effect: whoever's curriculum holds its document reads it; a version
    superseded or retired: its open readings are no longer needed (in the step's
    transaction). A periodic review (in force before and after) changes nothing."""
    if type_name != "documents.document" or source == target:
        return
    from .services import assignments_sync, readings_cancel

    if target == "effective":
        assignments_sync(documents=[record.document_id])
    elif target in ("superseded", "obsolete"):
        readings_cancel(record, f"{record.number} is {target}")


def _person_left(sender: Any, *, user: Any, reason: str, **kwargs: Any) -> None:
    from .services import person_left

    person_left(sender, user=user, reason=reason)


def _role_granted(sender: Any, *, user: Any, **kwargs: Any) -> None:
    from .services import assignments_sync

    assignments_sync(people=[user.pk], reason="New role: its curriculum")
