"""Computerized systems, declared for the record kit: the inventory (A11-05). Their own
parts are the four people, the validation state, interfaces, validation deliverables, the
security posture and the records that land on them (alerts, incidents, changes)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from cyberqms.platform.core.access import capable
from cyberqms.platform.kit.record_filters import RecordFilterSet, YesNoFilter
from cyberqms.platform.kit.record_rows import Rows
from cyberqms.platform.kit.records import Column, FormGroup, RecordKind, running_number

from .enums import Criticality, GampCategory, Hosting, SystemState
from .models import PEOPLE, PostureEntry, System, SystemInterface, ValidationDeliverable
from .posture import computed_posture, entered_posture, posture_watched, related_lists
from .workflow import SYSTEM_WORKFLOW

S = SystemState
_OPEN = (S.PLANNED, S.IN_VALIDATION, S.VALIDATED, S.UNDER_CHANGE)

_PEOPLE = tuple(name for name, _words in PEOPLE)
_WHAT = ("title", "description", "gxp_functions", "records_held", "data_integrity_relevant",
         "hosting", "supplier")
_CLASS = ("gamp_category", "criticality", "version")
_CONTINUITY = ("rto_hours", "rpo_hours", "continuity_plan")
_ALL = (*_WHAT, *_CLASS, *_PEOPLE, *_CONTINUITY)
# Validated systems change their description and people freely (with a reason); what was
# validated (category, criticality, version) changes only under change control.
_IN_USE = frozenset({*_WHAT, *_PEOPLE, *_CONTINUITY})


class SystemFilter(RecordFilterSet):
    search_fields = ("gxp_functions", "records_held", "version")
    gamp_category = django_filters.ChoiceFilter(choices=GampCategory.choices,
                                                empty_label="Any", label="GAMP category")
    criticality = django_filters.ChoiceFilter(choices=Criticality.choices, empty_label="Any")
    hosting = django_filters.ChoiceFilter(choices=Hosting.choices, empty_label="Any")
    data_integrity_relevant = YesNoFilter(label="Data-integrity relevant")
    sort_fields = (*RecordFilterSet.sort_fields, ("title", "name"),
                   ("criticality", "criticality"))

    class Meta:
        model = System
        fields: list[str] = []


# What each named person must be able to do on systems at the system's site.
_ABLE = {"owner": "systems.work", "process_owner": "systems.view",
         "qa_contact": "systems.approve", "security_contact": "systems.review"}


def people_able(system: System, actor: Any, changed: tuple[str, ...]) -> None:
    """A named person is active and holds the right their part needs at the site: the QA
    contact approves systems, the IT-security contact reviews them."""
    words = dict(PEOPLE)
    for name in _PEOPLE:
        person = getattr(system, name)
        if name in changed and person is not None and not (
                person.is_active and capable(person, _ABLE[name], system)):
            raise ValidationError({name: [
                f"{person} cannot act as {words[name]} of systems at {system.site.code}."]})


def page_context(request: HttpRequest, system: System) -> dict[str, Any]:
    supplier = system.supplier if system.supplier_id else None
    return {
        "system": system,
        "computed": computed_posture([system])[system.pk],
        "entered": entered_posture([system])[system.pk],
        "watched": posture_watched(system),
        "related": related_lists(system, request.user),
        "people": [(words, getattr(system, name)) for name, words in PEOPLE],
        "supplier_flag": (supplier is not None and supplier.state == "disqualified"
                          and system.state in (S.VALIDATED, S.UNDER_CHANGE)),
    }


def system_badges(system: System) -> list[tuple[str, str, str]]:
    badges = []
    supplier = system.supplier if system.supplier_id else None
    if supplier is not None and supplier.state == "disqualified" and system.state in (
            S.VALIDATED, S.UNDER_CHANGE):
        badges.append(("bad", "supplier disqualified",
                       f"{supplier.number} {supplier.title} is disqualified."))
    return badges


SYSTEM_INTERFACES = Rows(
    name="interfaces", model=SystemInterface, heading="Interfaces",
    fields=("direction", "other", "data"),
    note="Data this system exchanges with other systems of the inventory.",
)
SYSTEM_DELIVERABLES = Rows(
    name="deliverables", model=ValidationDeliverable, heading="Validation deliverables",
    fields=("kind", "system_version", "reference", "approved_on"),
    note="Each tied to the version it covers; the summary report of the version in "
         "production is needed to release the system as validated.",
)
SYSTEM_POSTURE = Rows(
    name="posture", model=PostureEntry, heading="Posture entries",
    fields=("item", "value", "assessed_on", "evidence"),
    note="What cyberqms cannot see by itself, with its date and evidence; the newest of "
         "each item counts.",
)

SYSTEMS = RecordKind(
    slug="systems", model=System, workflow=SYSTEM_WORKFLOW, prefix="SYS",
    label="Computerized system", plural="Computerized systems", action_prefix="systems",
    initial_state=S.PLANNED, deletable_states=(S.PLANNED,), closed_states=(S.RETIRED,),
    summary="The inventory of computerized systems (Annex 11 §4.3): GxP functions, GAMP 5 "
            "category, the people who answer for each, validation state, continuity "
            "targets, interfaces and security posture.",
    nav_section="Systems and risk", nav_icon="server", nav_order=10,
    numbering=lambda record, actor: running_number("SYS"), number_shape="SYS-NNNN",
    filterset=SystemFilter, row_badges=system_badges, checks=(people_able,),
    detail_template="systems/system_detail.html", detail_context=page_context,
    rows=(SYSTEM_INTERFACES, SYSTEM_DELIVERABLES, SYSTEM_POSTURE),
    columns=(Column("number", "Number", "number"), Column("title", "Name", "name"),
             Column("gamp_category", "GAMP"), Column("criticality", "Criticality",
                                                     "criticality"),
             Column("state", "Validation state", "state"), Column("site", "Site"),
             Column("owner", "System owner"), Column("version", "Version"),
             Column("due_date", "Next evaluation", "due")),
    api_list_fields=("supplier", "hosting", "validated_version"),
    create_fields=_ALL,
    editable={
        S.PLANNED: frozenset(_ALL),
        S.IN_VALIDATION: frozenset(_ALL),
        S.VALIDATED: _IN_USE,
        S.UNDER_CHANGE: frozenset(_ALL),
    },
    labels={"title": "Name", "owner": "System owner", "due_date": "Next periodic evaluation",
            "description": "Description and purpose"},
    sections=(
        ("System", ("description", "gxp_functions", "records_held", "gamp_category",
                    "criticality", "data_integrity_relevant", "hosting", "supplier")),
        ("Validation", ("version", "validated_version", "validated_at",
                        "last_evaluated_on", "due_date")),
        ("Continuity (Annex 11 §16)", ("rto_hours", "rpo_hours", "continuity_plan")),
    ),
    form_groups=(
        FormGroup("System", ("title", "description", "gxp_functions", "records_held",
                             "data_integrity_relevant", "hosting", "supplier")),
        FormGroup("Classification", _CLASS,
                  "GAMP 5 category and criticality set the validation effort and how often "
                  "the system is evaluated."),
        FormGroup("People (Annex 11 §2)", _PEOPLE,
                  "A system is released as validated only with all four named."),
        FormGroup("Continuity", _CONTINUITY),
    ),
)
