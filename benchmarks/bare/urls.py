from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path

from bare.models import Row


def row(request: HttpRequest, pk: int) -> JsonResponse:
    r = get_object_or_404(Row, pk=pk)
    return JsonResponse({"id": r.pk, "title": r.title, "state": r.state})


urlpatterns = [path("row/<int:pk>", row)]
