from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "cyberqms.security.monitoring"
    label = "monitoring"
    verbose_name = "Security monitoring"

    def ready(self) -> None:
        from django.urls import reverse

        from cyberqms.platform.core.access import declare
        from cyberqms.platform.trail.registry import register

        from .models import Alert, EventSource

        declare("monitoring.event.view", "See received security events and the quarantine",
                read=True)
        declare("monitoring.alert.view", "See security alerts", read=True)
        declare("monitoring.alert.triage", "Acknowledge, investigate and close security alerts")
        declare("monitoring.source.manage", "Register security event sources")
        declare("monitoring.ingest", "Send security events (source tokens)")
        from cyberqms.platform.core.events import add_event_sink

        from .own_events import forward

        add_event_sink(forward)
        from cyberqms.platform.core.scheduler import every

        every("monitoring.detect", "cyberqms.security.monitoring.detector.detect_interval",
              "cyberqms.security.monitoring.detector.detect_job",
              "detect the security events every process received (CYBERQMS_DETECTION)")
        every("monitoring.retention", "cyberqms.security.monitoring.retention.retention_interval",
              "cyberqms.security.monitoring.retention.enqueue_retention",
              "remove the security events past their source's retention; make the months "
              "ahead (task)")
        from cyberqms.assets.systems.posture import register_posture_source, register_related

        from .system_posture import monitoring_posture, system_alerts

        register_posture_source(monitoring_posture)
        register_related(system_alerts)
        register(EventSource, "monitoring.source", view_action="monitoring.event.view",
                 label=lambda s: f"Event source {s.name}")
        # Counts and times of an open alert grow with every matching event; they are
        # operational, not part of its audited state.
        register(Alert, "monitoring.alert", view_action="monitoring.alert.view",
                 exclude=("count", "last_seen", "summary", "updated_at"),
                 label=lambda a: f"{a.number} {a.title}",
                 detail_url=lambda a: reverse("monitoring:alert", args=[a.pk]))
