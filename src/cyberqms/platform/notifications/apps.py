from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "cyberqms.platform.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from cyberqms.platform.core import scheduler
        from cyberqms.platform.kit.record_services import owner_assigned
        from cyberqms.platform.kit.workflow import state_changed
        from cyberqms.platform.trail.registry import register

        from . import actions, tasks  # noqa: F401  (declares actions)
        from .models import EmailSettings
        from .services import owner_told, record_moved

        owner_assigned.connect(owner_told, dispatch_uid="notifications.owner_told")
        state_changed.connect(record_moved, dispatch_uid="notifications.record_moved")
        # A person's e-mail choices are seen in the trail by whoever sees their account.
        register(EmailSettings, "notifications.email", view_action="accounts.user.view",
                 label=lambda s: f"E-mail notifications of {s.person}")

        scheduler.every("notifications.overdue", tasks.overdue_scan_interval,
                        tasks.enqueue_overdue_scan,
                        "notify owners of overdue quality records, once a day each (task)")
