from django.urls import path

from . import views

app_name = "records"

urlpatterns = [
    path("<slug:slug>/<int:pk>/transition/<slug:action>/", views.transition, name="transition"),
    path("<slug:slug>/<int:pk>/attachments/", views.attachment_upload, name="attachment_add"),
    path("<slug:slug>/<int:pk>/attachments/<int:attachment_id>/", views.attachment_download,
         name="attachment_download"),
    path("<slug:slug>/<int:pk>/attachments/<int:attachment_id>/remove/",
         views.attachment_withdraw, name="attachment_remove"),
    path("<slug:slug>/<int:pk>/comments/", views.comment, name="comment_add"),
    path("<slug:slug>/<int:pk>/links/", views.link, name="link_add"),
    path("<slug:slug>/<int:pk>/links/<int:link_id>/remove/", views.unlink, name="link_remove"),
    path("<slug:slug>/<int:pk>/extensions/", views.extension, name="extension_request"),
    path("<slug:slug>/<int:pk>/extensions/<int:extension_id>/", views.extension_decision,
         name="extension_decide"),
    path("<slug:slug>/<int:pk>/delete/", views.delete, name="delete"),
    path("<slug:slug>/<int:pk>/pdf/", views.pdf, name="pdf"),
    path("<slug:slug>/<int:pk>/json/", views.json_export, name="json"),
]
