"""The deviation's own pages, mounted by the record kit under /deviations/."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/capa/", views.deviation_spawn_capa, name="spawn_capa"),
    path("security-references/", views.deviation_security_references,
         name="security_references"),
]
