from typing import Any

from django.apps import AppConfig


class KitConfig(AppConfig):
    """The record kit: no models of its own (the shared parts' tables are core's)."""

    name = "cyberqms.platform.kit"
    label = "kit"
    verbose_name = "Record kit"

    def ready(self) -> None:
        from cyberqms.platform.core.models import (
            Attachment,
            Comment,
            DueDateExtension,
            RecordLink,
            Signature,
        )
        from cyberqms.platform.kit.record_parts import children_of
        from cyberqms.platform.trail.queries import add_child_provider
        from cyberqms.platform.trail.registry import register

        # A record's children are audited models of their own; they are read through the
        # parent's history tab (the child provider), so their own view action is the
        # auditor's.
        register(
            Attachment, "core.attachment", view_action="trail.entry.view",
            exclude=("nonce", "ciphertext"),
            label=lambda a: f"{a.filename} (attachment of {_number(a)})",
        )
        register(Comment, "core.comment", view_action="trail.entry.view",
                 label=lambda c: f"Comment on {_number(c)}")
        # The labels (number and title) are a display cache of the two ends and stay out
        # of the trail: a link's entry shows in both records' histories, and the other
        # end's title may belong to a site the viewer cannot see. The ends themselves
        # (type and id) are audited.
        register(RecordLink, "core.link", view_action="trail.entry.view",
                 exclude=("from_label", "to_label"),
                 label=lambda link: f"Link {link.from_label.split(' ', 1)[0]} → "
                                    f"{link.to_label.split(' ', 1)[0]}")
        register(DueDateExtension, "core.extension", view_action="trail.entry.view",
                 label=lambda e: f"Due-date extension for {e.record_label}")
        # Signatures are audited rows of their own (their full content in the trail), so
        # verification reconciles each one: an edit, a deletion or a row added in SQL is
        # named with the record it signs.
        register(Signature, "core.signature", view_action="trail.entry.view",
                 label=lambda sig: f"Signature “{sig.meaning}” by {sig.username} on "
                                   f"{sig.record_label}")
        add_child_provider(children_of)
        from django.apps import apps
        from django.db.models.signals import post_migrate

        from .search_indexes import after_migrate

        # Sent per app with models (the kit has none): core's, once per migrate.
        post_migrate.connect(after_migrate, sender=apps.get_app_config("core"),
                             dispatch_uid="kit.search_indexes")


def _number(part: Any) -> str:
    """The number of the record an attachment or comment belongs to ("DEV-2026-0047"),
    as a link's label names its ends: the number only, never the title."""
    from .records import kind_by_type

    try:
        model = kind_by_type(part.record_type).model
    except LookupError:
        return f"{part.record_type} {part.record_id}"
    number = model._default_manager.filter(pk=part.record_id).values_list(
        "number", flat=True).first()
    return str(number or f"{part.record_type} {part.record_id}")
