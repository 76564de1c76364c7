from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cyberqms.web"
    label = "web"
    verbose_name = "Web shell"

    def ready(self) -> None:
        from . import search  # noqa: F401  (declares the search's gate action)
