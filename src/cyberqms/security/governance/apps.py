from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "cyberqms.security.governance"
    label = "governance"
    verbose_name = "Access governance"

    def ready(self) -> None:
        from cyberqms.platform.core.home import register_home_tasks
        from cyberqms.platform.core.scheduler import every
        from cyberqms.platform.kit.records import register_family
        from cyberqms.platform.trail.registry import register

        from . import actions  # noqa: F401  (declares the actions)
        from .family import REVIEWS
        from .models import Attestation, PrivilegeChange, ReviewItem
        from .pages import home_tasks

        register_family(REVIEWS)
        from cyberqms.platform.accounts.services import role_revoked, roles_changed

        from .movers import on_role_change

        roles_changed.connect(on_role_change, dispatch_uid="governance.mover_granted")
        role_revoked.connect(on_role_change, dispatch_uid="governance.mover_revoked")
        register(ReviewItem, "governance.review_item", view_action="access_reviews.view",
                 label=lambda i: f"{i.review.number}: {i.role_label} of {i.who}")
        register(Attestation, "governance.attestation", view_action="access_reviews.view",
                 label=lambda a: f"{a.review.number}: attestation of {a.reviewer.username}")
        register(PrivilegeChange, "governance.privilege_change",
                 view_action="access.governance.view",
                 label=lambda p: f"{p.change_number}: {p.role} without {p.action}")
        register_home_tasks(home_tasks)
        from cyberqms.platform.kit.workflow import state_changed

        from .privilege_changes import on_change_step, privilege_tasks

        state_changed.connect(on_change_step, dispatch_uid="governance.privilege_change")
        register_home_tasks(privilege_tasks)
        from .system_review import removal_tasks

        register_home_tasks(removal_tasks)
        every("governance.schedule", "cyberqms.security.governance.campaigns.schedule_interval",
              "cyberqms.security.governance.campaigns.launch_scheduled",
              "launch the scheduled access reviews of every site")
        every("governance.reminders",
              "cyberqms.security.governance.campaigns.schedule_interval",
              "cyberqms.security.governance.campaigns.remind_reviewers",
              "remind reviewers of overdue access reviews")
