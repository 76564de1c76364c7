from django.apps import AppConfig


class BackupsConfig(AppConfig):
    """Encrypted backups of the database with a manifest that proves what they hold
    (A11-13, AL-08)."""

    name = "cyberqms.platform.backups"
    label = "backups"
    verbose_name = "Backups"

    def ready(self) -> None:
        from cyberqms.platform.core.scheduler import every
        from cyberqms.platform.trail.registry import register

        from . import actions  # noqa: F401  (declares the actions)
        from .models import Backup

        register(Backup, "backups.backup", view_action="backups.backup.view",
                 label=lambda b: b.file_name)
        tasks = "cyberqms.platform.backups.tasks."
        every("backups.due", tasks + "due_interval", tasks + "enqueue_due",
              "take a backup, or test the restore of the newest, when one is due")
