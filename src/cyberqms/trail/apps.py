from django.apps import AppConfig


class TrailConfig(AppConfig):
    name = "cyberqms.trail"
    label = "trail"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from django.urls import reverse

        from cyberqms.trail import actions
        from cyberqms.trail.models import IntegrityFlag, TrailReview
        from cyberqms.trail.registry import register

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
