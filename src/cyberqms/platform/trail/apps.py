from django.apps import AppConfig


class TrailConfig(AppConfig):
    name = "cyberqms.platform.trail"
    label = "trail"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from django.urls import reverse

        from cyberqms.platform.core import scheduler
        from cyberqms.platform.trail import actions
        from cyberqms.platform.trail.models import IntegrityFlag, TrailReview
        from cyberqms.platform.trail.registry import register

        # By name: the jobs' code (signing, verification, publishing) loads when they run.
        tasks = "cyberqms.platform.trail.tasks."
        scheduler.every("trail.seal", tasks + "seal_interval", tasks + "seal_now",
                        "sign a checkpoint when there are new audit entries")
        scheduler.every("trail.witness", tasks + "witness_interval", tasks + "enqueue_publish",
                        "publish the newest checkpoint to the witnesses and the SIEM (task)")
        scheduler.every("trail.verify.incremental", tasks + "verify_interval",
                        tasks + "enqueue_incremental_verify",
                        "verify entries since the last verified checkpoint (task)")
        scheduler.every("trail.verify.full", tasks + "full_verify_interval",
                        tasks + "enqueue_full_verify",
                        "verify the whole trail and reconcile every record (task)")

        register(
            TrailReview, "trail.review", view_action=actions.ENTRY_VIEW,
            label=lambda r: f"Trail review {r.pk}",
            detail_url=lambda r: reverse("trail:reviews"),
        )
        register(
            IntegrityFlag, "trail.flag", view_action=actions.STATUS_VIEW,
            label=lambda f: f"Integrity flag {f.pk}",
            detail_url=lambda f: reverse("trail:status"),
        )
