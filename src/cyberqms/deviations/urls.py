from django.urls import path

from . import views

app_name = "deviations"

urlpatterns = [
    path("", views.deviation_list, name="list"),
    path("new/", views.deviation_create, name="create"),
    path("<int:pk>/", views.deviation_detail, name="detail"),
    path("<int:pk>/edit/", views.deviation_edit, name="edit"),
    path("<int:pk>/capa/", views.deviation_spawn_capa, name="spawn_capa"),
]
