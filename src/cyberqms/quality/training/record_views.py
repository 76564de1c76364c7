"""A person's training record as a PDF: whoever may see the record's page (the person, and
holders of `training.view` at a site where the person works) downloads it; anyone else is
told it does not exist, as on the page."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from cyberqms.platform.core.moments import in_utc
from cyberqms.platform.core.pages import gated, page_actor

from . import actions, services
from .record_pdf import training_record, training_record_pdf


@gated(actions.SELF)
@require_GET
@in_utc
def person_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    if pk != actor.pk and not services.covers(actor, actions.VIEW, pk):
        raise Http404
    record = training_record(pk)
    if record is None:
        raise Http404
    response = HttpResponse(training_record_pdf(record, actor=actor),
                            content_type="application/pdf")
    name = f"training-record-{record.person.username}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
