from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cyberqms.web"
    label = "web"
    verbose_name = "Web shell"
