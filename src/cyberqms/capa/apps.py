from django.apps import AppConfig


class CapaConfig(AppConfig):
    name = "cyberqms.capa"
    label = "capa"
    verbose_name = "CAPA"

    def ready(self) -> None:
        from cyberqms.core.records import declare_record_actions

        declare_record_actions(
            "capa", "CAPA", {"verify": "Record the result of a CAPA effectiveness check"}
        )
