"""The CAPA's own pages, mounted by the record kit under /capa/."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/actions/", views.action_add, name="action_add"),
    path("<int:pk>/actions/<int:action_id>/complete/", views.action_complete,
         name="action_complete"),
    path("<int:pk>/actions/<int:action_id>/cancel/", views.action_cancel, name="action_cancel"),
    path("<int:pk>/effectiveness/", views.effectiveness_record, name="effectiveness"),
]
