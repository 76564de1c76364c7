from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cyberqms.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from cyberqms.trail.queries import add_child_provider
        from cyberqms.trail.registry import register

        from .models import Attachment, Comment, DueDateExtension, RecordLink
        from .record_parts import children_of

        # A record's children are audited models of their own; they are read through the
        # parent's history tab (the child provider), so their own view action is the
        # auditor's.
        register(
            Attachment, "core.attachment", view_action="trail.entry.view",
            exclude=("nonce", "ciphertext"),
            label=lambda a: f"{a.filename} (attachment of {a.record_type} {a.record_id})",
        )
        register(Comment, "core.comment", view_action="trail.entry.view",
                 label=lambda c: f"Comment on {c.record_type} {c.record_id}")
        register(RecordLink, "core.link", view_action="trail.entry.view",
                 label=lambda link: f"Link {link.from_label} → {link.to_label}")
        register(DueDateExtension, "core.extension", view_action="trail.entry.view",
                 label=lambda e: f"Due-date extension for {e.record_label}")
        add_child_provider(children_of)
