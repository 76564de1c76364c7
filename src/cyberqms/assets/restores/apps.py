from django.apps import AppConfig


class RestoresConfig(AppConfig):
    name = "cyberqms.assets.restores"
    label = "restores"
    verbose_name = "Restore tests"

    def ready(self) -> None:
        from cyberqms.platform.backups.verify import restore_tested
        from cyberqms.platform.kit.records import register_family

        from .family import RESTORE_TESTS
        from .recording import record_restore_test

        register_family(RESTORE_TESTS)
        restore_tested.connect(record_restore_test, dispatch_uid="restores.record")
