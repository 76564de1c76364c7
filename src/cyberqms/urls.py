from django.urls import include, path

from cyberqms.api import api
from cyberqms.core.family_urls import family_urls
from cyberqms.web import views as web_views

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("trail/", include("cyberqms.trail.urls")),
    path("records/", include("cyberqms.core.urls")),
    path("notifications/", include("cyberqms.notifications.urls")),
    path("monitoring/", include("cyberqms.monitoring.urls")),
    *family_urls(),
    path("", include("cyberqms.accounts.urls")),
    path("", include("cyberqms.web.urls")),
]

handler403 = "cyberqms.web.errors.forbidden"
handler404 = "cyberqms.web.errors.not_found"
handler500 = "cyberqms.web.errors.server_error"
