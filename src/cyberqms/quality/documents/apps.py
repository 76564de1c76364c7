from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "cyberqms.quality.documents"
    label = "documents"
    verbose_name = "Document control"

    def ready(self) -> None:
        from cyberqms.platform.core import scheduler
        from cyberqms.platform.kit.records import register_family
        from cyberqms.platform.trail.registry import register

        from .family import DOCUMENTS
        from .models import ControlledDocument

        register(ControlledDocument, "documents.controlled", view_action="documents.view",
                 label=lambda d: d.label)
        register_family(DOCUMENTS, own_actions={
            "security_approve":
                "Approve a cyber-relevant document (IT security, e-signature)",
        })
        scheduler.every("documents.effective",
                        "cyberqms.quality.documents.services.effective_interval",
                        "cyberqms.quality.documents.services.make_due_effective",
                        "make approved documents effective on their effective date")
