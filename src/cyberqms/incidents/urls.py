from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/chain/", views.incident_chain, name="chain"),
    path("<int:pk>/edit/", views.incident_edit, name="edit"),
    path("<int:pk>/deviation/", views.incident_open_deviation, name="open_deviation"),
    path("from-alert/<int:alert_id>/", views.incident_from_alert, name="from_alert"),
]
