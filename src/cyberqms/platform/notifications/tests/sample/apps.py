from django.apps import AppConfig


class WidgetSampleConfig(AppConfig):
    """A quality-record family that exists only in the test suite, for the overdue scan.

    Its kind is registered by the tests that use it (and removed after them), so other
    tests see only the real record families.
    """

    name = "cyberqms.platform.notifications.tests.sample"
    label = "notifications_sample"

    def ready(self) -> None:
        from cyberqms.platform.core.access import declare

        for name in ("view", "create", "edit", "comment", "delete", "extension.approve"):
            declare(f"widgets.{name}", f"Widgets (test only): {name}")
