from django.urls import path

from . import views

app_name = "trail"

urlpatterns = [
    path("", views.entry_list, name="entries"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("export.json", views.export_json, name="export_json"),
    path("history/<str:object_type>/<str:object_id>/", views.history, name="history"),
    path("status/", views.status, name="status"),
    path("status/verify/", views.verify, name="verify"),
    path("status/checkpoint/", views.checkpoint, name="checkpoint"),
    path("flags/<int:flag_id>/resolve/", views.flag_resolve, name="flag_resolve"),
    path("reviews/", views.review_list, name="reviews"),
    path("reviews/new/", views.review_create, name="review_create"),
]
