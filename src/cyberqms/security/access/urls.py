"""SCIM 2.0, under /scim/v2/ (security.access.scim)."""

from django.urls import path

from . import scim

app_name = "scim"
urlpatterns = [
    path("ServiceProviderConfig", scim.scim_view(scim.service_provider_config),
         name="config"),
    path("Users", scim.scim_view(scim.users), name="users"),
    path("Users/<str:pk>", scim.scim_view(scim.user), name="user"),
    path("Groups", scim.scim_view(scim.groups), name="groups"),
    path("Groups/<str:pk>", scim.scim_view(scim.group), name="group"),
]
