"""The incident's own pages, mounted by the record kit under /incidents/: the chain, the
deviation it opens, escalation from an alert."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/chain/", views.incident_chain, name="chain"),
    path("<int:pk>/deviation/", views.incident_open_deviation, name="open_deviation"),
    path("from-alert/<int:alert_id>/", views.incident_from_alert, name="from_alert"),
]
