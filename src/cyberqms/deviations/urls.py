from django.urls import path  # noqa: F401  # routes are added as pages land

app_name = "deviations"

urlpatterns: list = []  # type: ignore[type-arg]
