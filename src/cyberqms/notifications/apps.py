from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "cyberqms.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from cyberqms.core import scheduler

        from . import actions, tasks  # noqa: F401  (declares actions)

        scheduler.every("notifications.overdue", tasks.overdue_scan_interval,
                        tasks.enqueue_overdue_scan,
                        "notify owners of overdue quality records, once a day each (task)")
