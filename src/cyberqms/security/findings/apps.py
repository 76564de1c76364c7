from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "cyberqms.security.findings"
    label = "findings"
    verbose_name = "Access findings"

    def ready(self) -> None:
        from cyberqms.platform.accounts.services import role_revoked, roles_changed
        from cyberqms.platform.core.scheduler import every
        from cyberqms.platform.kit.records import register_family

        from . import system_drift  # noqa: F401  (registers its detectors)
        from .family import FINDINGS
        from .scan import scan_on_role_change

        register_family(FINDINGS)
        roles_changed.connect(scan_on_role_change, dispatch_uid="findings.role_granted")
        role_revoked.connect(scan_on_role_change, dispatch_uid="findings.role_revoked")
        every("findings.scan", "cyberqms.security.findings.scan.scan_interval",
              "cyberqms.security.findings.scan.drift_scan",
              "find drift between the access people hold and how they use it")
