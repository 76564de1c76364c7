from django.apps import AppConfig


class SystemsConfig(AppConfig):
    name = "cyberqms.assets.systems"
    label = "systems"
    verbose_name = "Computerized systems"

    def ready(self) -> None:
        from cyberqms.platform.core.home import register_home_tasks
        from cyberqms.platform.kit.records import register_family
        from cyberqms.platform.kit.workflow import state_changed

        from .changes import on_change_step
        from .family import SYSTEMS
        from .tasks_home import system_owner_tasks

        register_family(SYSTEMS)
        state_changed.connect(on_change_step, dispatch_uid="systems.change_step")
        register_home_tasks(system_owner_tasks)
