from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "cyberqms.platform.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from cyberqms.platform.core import scheduler
        from cyberqms.platform.kit.record_services import owner_assigned

        from . import actions, tasks  # noqa: F401  (declares actions)
        from .services import owner_told

        owner_assigned.connect(owner_told, dispatch_uid="notifications.owner_told")

        scheduler.every("notifications.overdue", tasks.overdue_scan_interval,
                        tasks.enqueue_overdue_scan,
                        "notify owners of overdue quality records, once a day each (task)")
