"""Training pages, under /training/: the matrix and what QA keeps (curricula, the training
steps need, people's records) at the top, one's own training under /training/mine/."""

from django.urls import path

from . import views

app_name = "training"
urlpatterns = [
    path("", views.matrix, name="matrix"),
    path("mine/", views.mine, name="mine"),
    path("mine/<int:pk>/", views.read, name="read"),
    path("assignments/<int:pk>/sign-off/", views.sign_off, name="sign_off"),
    path("people/<int:pk>/", views.person, name="person"),
    path("curricula/", views.curricula, name="curricula"),
    path("requirements/", views.requirements, name="requirements"),
    path("requirements/<int:pk>/remove/", views.requirement_remove, name="requirement_remove"),
]
