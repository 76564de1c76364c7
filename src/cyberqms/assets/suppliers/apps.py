from django.apps import AppConfig


class SuppliersConfig(AppConfig):
    name = "cyberqms.assets.suppliers"
    label = "suppliers"
    verbose_name = "Suppliers"

    def ready(self) -> None:
        from cyberqms.platform.core.home import register_home_tasks
        from cyberqms.platform.kit.records import register_family

        from .family import SUPPLIERS
        from .tasks_home import supplier_tasks

        register_family(SUPPLIERS)
        register_home_tasks(supplier_tasks)
