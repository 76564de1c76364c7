"""Training pages, under /training/."""

from django.urls import path

from . import views

app_name = "training"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("assignments/<int:pk>/", views.read, name="read"),
    path("assignments/<int:pk>/sign-off/", views.sign_off, name="sign_off"),
    path("matrix/", views.matrix, name="matrix"),
    path("people/<int:pk>/", views.person, name="person"),
    path("curricula/", views.curricula, name="curricula"),
    path("requirements/", views.requirements, name="requirements"),
    path("requirements/<int:pk>/remove/", views.requirement_remove, name="requirement_remove"),
]
