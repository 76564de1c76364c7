from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cyberqms.platform.core"
    label = "core"
    verbose_name = "Core"
