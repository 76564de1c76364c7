from django.urls import path

from . import views

app_name = "capa"

urlpatterns = [
    path("", views.capa_list, name="list"),
    path("new/", views.capa_create, name="create"),
    path("<int:pk>/", views.capa_detail, name="detail"),
    path("<int:pk>/edit/", views.capa_edit, name="edit"),
    path("<int:pk>/actions/", views.action_add, name="action_add"),
    path("<int:pk>/actions/<int:action_id>/complete/", views.action_complete,
         name="action_complete"),
    path("<int:pk>/actions/<int:action_id>/cancel/", views.action_cancel, name="action_cancel"),
    path("<int:pk>/effectiveness/", views.effectiveness_record, name="effectiveness"),
]
