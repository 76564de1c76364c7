from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/time-zone/", views.profile_time_zone, name="profile_time_zone"),
    path("profile/tokens/", views.token_create, name="token_create"),
    path("profile/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("admin-area/users/", views.user_list, name="user_list"),
    path("admin-area/users/new/", views.user_create, name="user_create"),
    path("admin-area/users/<int:user_id>/", views.user_detail, name="user_detail"),
    path("admin-area/users/<int:user_id>/<str:operation>/", views.user_operation,
         name="user_operation"),
    path("admin-area/roles/<int:assignment_id>/revoke/", views.role_revoke, name="role_revoke"),
    path("admin-area/roles/<int:assignment_id>/approval/", views.role_approval,
         name="role_approval"),
    path("admin-area/sites/", views.site_list, name="site_list"),
    path("security/integrations/", views.integration_list, name="integration_list"),
    path("security/events/", views.security_events, name="security_events"),
    path("security/decisions/", views.access_decisions, name="access_decisions"),
]
