from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert"),
    path("alerts/<int:pk>/transition/", views.alert_transition, name="alert_transition"),
    path("alerts/<int:pk>/assign/", views.alert_assign, name="alert_assign"),
    path("events/", views.event_list, name="events"),
    path("sources/", views.source_list, name="sources"),
    path("sources/<int:pk>/system/", views.source_system, name="source_system"),
    path("banner/", views.banner, name="banner"),
]
