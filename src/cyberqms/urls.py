from django.urls import include, path

from cyberqms.api import api
from cyberqms.platform.kit.family_urls import family_urls
from cyberqms.web import views as web_views
from cyberqms.web.favicon import favicon

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("trail/", include("cyberqms.platform.trail.urls")),
    path("records/", include("cyberqms.platform.kit.urls")),
    path("notifications/", include("cyberqms.platform.notifications.urls")),
    path("monitoring/", include("cyberqms.security.monitoring.urls")),
    path("training/", include("cyberqms.quality.training.urls")),
    path("access/", include("cyberqms.security.governance.urls")),
    path("scim/v2/", include("cyberqms.security.access.urls")),
    *family_urls(),
    path("", include("cyberqms.platform.accounts.urls")),
    path("", include("cyberqms.web.urls")),
]

handler403 = "cyberqms.web.errors.forbidden"
handler404 = "cyberqms.web.errors.not_found"
handler500 = "cyberqms.web.errors.server_error"
