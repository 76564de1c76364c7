"""The change's own pages, mounted by the record kit under /changes/."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/tasks/", views.task_add, name="task_add"),
    path("<int:pk>/tasks/<int:task_id>/complete/", views.task_complete, name="task_complete"),
    path("<int:pk>/tasks/<int:task_id>/cancel/", views.task_cancel, name="task_cancel"),
]
