"""Access governance, under /access/: the overview, a person's access, and the reviewer's
page of a campaign (the campaigns' own list and pages are the kit's, /access-reviews/)."""

from django.urls import path

from cyberqms.security.access.system_views import system_accounts_page
from cyberqms.security.access.views import hr_import_page

from . import pages, privilege_pages

app_name = "governance"
urlpatterns = [
    path("", pages.overview, name="overview"),
    path("scan/", pages.scan_now, name="scan"),
    path("hr-import/", hr_import_page, name="hr_import"),
    path("people/<int:pk>/", pages.person, name="person"),
    path("systems/<int:pk>/accounts/", system_accounts_page, name="system_accounts"),
    path("least-privilege/propose/", privilege_pages.propose, name="privilege_propose"),
    path("least-privilege/<int:pk>/apply/", privilege_pages.apply, name="privilege_apply"),
    path("reviews/<int:pk>/decide/", pages.decide, name="decide"),
    path("reviews/<int:pk>/attest/", pages.attest, name="attest"),
]
