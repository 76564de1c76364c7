"""The deviation's own page action: spawning a CAPA (list, create, detail and edit are the
record kit's)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.family_pages import detail_page, form_errors, load_record
from cyberqms.platform.kit.records import kind_by_slug

from . import services
from .family import page_context
from .forms import SpawnCapaForm


@gated("deviations.edit")
@require_POST
def deviation_spawn_capa(request: HttpRequest, pk: int) -> HttpResponse:
    kind = kind_by_slug("deviations")
    deviation = load_record(kind, request, pk, for_="edit")
    form = SpawnCapaForm(request.POST)
    if form.is_valid():
        try:
            capa = services.deviation_spawn_capa(deviation, actor=page_actor(request),
                                                 **form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"{capa.number} opened from {deviation.number}.")
            return redirect(kind.detail_url(deviation))
    return detail_page(request, kind, deviation, status=422,
                       **page_context(request, deviation, capa_form=form))
