from django.apps import AppConfig


class TransportConfig(AppConfig):
    """The syslog listener and the SIEM forwarder (`manage.py syslog`, `manage.py siem`):
    no models; events go in through monitoring's ingest service and out as event sinks."""

    name = "cyberqms.security.transport"
    label = "transport"
    verbose_name = "Event transport"

    def ready(self) -> None:
        from cyberqms.platform.core.events import add_event_sink

        from . import siem

        add_event_sink(siem.forward)  # to an external SIEM, when CYBERQMS_SIEM_ADDRESS is set
