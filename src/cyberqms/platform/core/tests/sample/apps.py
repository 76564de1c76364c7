from django.apps import AppConfig


class SampleConfig(AppConfig):
    """A record family that exists only in the test suite, to exercise the engine."""

    name = "cyberqms.platform.core.tests.sample"
    label = "sample"

    def ready(self) -> None:
        from cyberqms.platform.core.access import declare
        from cyberqms.platform.trail.registry import register

        from .models import Sample

        declare("sample.view", "See samples")
        declare("sample.submit", "Submit a sample", gxp_write=True)
        declare("sample.approve", "Approve a sample", gxp_write=True)
        register(Sample, "sample.sample", view_action="sample.view", label=lambda s: s.title)
