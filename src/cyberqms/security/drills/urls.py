"""The drill's own page, mounted by the record kit under /drills/: the trend over drills."""

from django.urls import path

from . import views

urlpatterns = [
    path("trend/", views.drill_trend, name="trend"),
]
