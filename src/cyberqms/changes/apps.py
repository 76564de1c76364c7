from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "cyberqms.changes"
    label = "changes"
    verbose_name = "Change control"

    def ready(self) -> None:
        from cyberqms.core.records import declare_record_actions

        declare_record_actions("changes", "change", {
            "security_approve":
                "Approve the cybersecurity impact of a change (IT security, e-signature)",
        })
