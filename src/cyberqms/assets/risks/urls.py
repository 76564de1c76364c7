"""The risk register, mounted by the record kit under /risks/."""

from django.urls import path

from . import views

urlpatterns = [path("register/", views.risk_register, name="register")]
