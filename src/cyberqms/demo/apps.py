from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "cyberqms.demo"
    label = "demo"
    verbose_name = "Demo organization"
