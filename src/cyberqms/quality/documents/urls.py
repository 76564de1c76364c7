"""The document's own pages, mounted by the record kit under /documents/."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/controlled-copy.pdf", views.copy, name="copy"),
    path("<int:pk>/revise/", views.revise, name="revise"),
    path("<int:pk>/content/", views.content, name="content"),
    path("<int:pk>/compare/<int:other>/", views.compare, name="compare"),
]
