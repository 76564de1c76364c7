"""The deviation's own page actions: spawning a CAPA, and the security-reference picker's
suggestions (list, create, detail and edit are the record kit's)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.family_pages import detail_page, form_errors, load_record
from cyberqms.platform.kit.records import kind_by_slug, site_model

from . import services
from .family import page_context
from .forms import SpawnCapaForm
from .queries import security_options


@gated("deviations.edit")
@require_POST
def deviation_spawn_capa(request: HttpRequest, pk: int) -> HttpResponse:
    kind = kind_by_slug("deviations")
    deviation = load_record(kind, request, pk, for_="edit")
    form = SpawnCapaForm(request.POST, deviation=deviation)
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


@gated("deviations.edit")
@require_GET
def deviation_security_references(request: HttpRequest) -> HttpResponse:
    """The picker's suggestions (`<option>`s for its datalist): the alerts and incidents at
    the chosen site (`site`, a code) that the person may see, matching what they typed
    (`security_reference`, or `q`). No site chosen yet: no suggestions."""
    code = request.GET.get("site", "").strip()[:20]
    query = (request.GET.get("q") or request.GET.get("security_reference") or "")[:100]
    site = site_model()._default_manager.filter(code=code, is_active=True).first() \
        if code else None
    options = security_options(request.user, site, query) if site is not None else []
    return render(request, "deviations/security_reference_options.html",
                  {"options": options})
