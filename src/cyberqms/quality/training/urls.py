"""Training pages, under /training/: the matrix and what QA keeps (curricula, the training
steps need, people's records) at the top, one's own training under /training/mine/."""

from django.urls import path

from . import chain_views, curricula_views, quiz_views, record_views, views

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
    path("mine/<int:pk>/quiz/", quiz_views.take, name="quiz"),
    path("attempts/<int:pk>/", quiz_views.attempt, name="quiz_attempt"),
    path("quizzes/<int:pk>/", quiz_views.edit, name="quiz_edit"),
    path("quizzes/<int:pk>/questions/", quiz_views.question_save, name="quiz_question"),
    path("quizzes/questions/<int:pk>/remove/", quiz_views.question_remove,
         name="quiz_question_remove"),
    path("people/<int:pk>/record.pdf", record_views.person_pdf, name="person_pdf"),
    path("curricula/new/", curricula_views.curriculum_create, name="curriculum_create"),
    path("curricula/<int:pk>/", curricula_views.curriculum_edit, name="curriculum_edit"),
    path("curricula/<int:pk>/items/new/", curricula_views.curriculum_item_create,
         name="curriculum_item_create"),
    path("curricula/items/<int:pk>/", curricula_views.curriculum_item_edit,
         name="curriculum_item_edit"),
    path("curricula/items/<int:pk>/remove/", curricula_views.curriculum_item_remove_page,
         name="curriculum_item_remove"),
    path("changes/<int:pk>/", chain_views.change, name="change"),
]
