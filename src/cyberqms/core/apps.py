from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cyberqms.core"
    label = "core"
    verbose_name = "Core"
