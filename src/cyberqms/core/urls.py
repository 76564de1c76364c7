from django.urls import path  # noqa: F401

app_name = "records"

urlpatterns: list = []  # type: ignore[type-arg]
