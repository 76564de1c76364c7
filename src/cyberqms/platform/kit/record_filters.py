"""List filters every record family shares, as a django-filter `FilterSet` that the list
page and the API list both use, so a filter means the same thing in both.

One vocabulary for every family: ``q`` (search), ``state`` (a state, or ``active``: any
state but the closed ones), ``site`` (site code),
``overdue`` and ``mine`` (``true``/``false``), ``sort`` (a field name, ``-`` for
descending). A value outside the vocabulary is an error naming the filter (422 in the API,
a message on the page), never silently ignored.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from cyberqms.platform.core.keyset import ordered

TRUE_FALSE = (("true", "Yes"), ("false", "No"))


class YesNoFilter(django_filters.ChoiceFilter):
    """A boolean filter that accepts exactly ``true`` or ``false`` (page and API alike)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("choices", TRUE_FALSE)
        kwargs.setdefault("empty_label", "Any")
        kwargs.setdefault("error_messages", {"invalid_choice": "Choose true or false."})
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in ("", None):
            return qs
        return super().filter(qs, value == "true")


class RecordFilterSet(django_filters.FilterSet):
    """The shared filters; a family subclasses it, adds its own and names its model.

    ``search_fields`` lists the text fields ``q`` looks in besides number and title.
    """

    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="search", label="Search", max_length=100)
    state = django_filters.ChoiceFilter(label="State", empty_label="Any state",
                                        method="by_state")
    site = django_filters.ChoiceFilter(field_name="site__code", label="Site",
                                       empty_label="Any site")
    overdue = YesNoFilter(method="only_overdue", label="Overdue")
    mine = YesNoFilter(method="only_mine", label="Owned by me")

    # Sort keys a family's columns may use; ``-`` reverses.
    sort_fields: tuple[tuple[str, str], ...] = (
        ("number", "number"), ("title", "title"), ("state", "state"),
        ("due_date", "due"), ("created_at", "created"),
    )
    default_sort = "-created"

    def __init__(self, data: Any = None, queryset: QuerySet[Any] | None = None, *,
                 request: Any = None, site_codes: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data, queryset, request=request, **kwargs)
        states = getattr(self._meta.model, "STATES", None)
        if states is not None:
            self.filters["state"].extra["choices"] = [*states.choices, ("active", "Active")]
        if site_codes is None:
            site_codes = self.site_codes()
        self.filters["site"].extra["choices"] = [(code, code) for code in site_codes]
        self.filters["sort"] = django_filters.OrderingFilter(
            fields=self.sort_fields, label="Sort", empty_label=None,
        )
        self.filters["sort"].parent = self
        self.filters["sort"].model = self._meta.model

    @staticmethod
    def site_codes() -> list[str]:
        from .records import site_model

        sites = site_model()._default_manager.order_by("code")
        return list(sites.values_list("code", flat=True))

    @property
    def form(self) -> forms.Form:
        form: forms.Form = super().form
        form.label_suffix = ""
        return form

    @property
    def qs(self) -> QuerySet[Any]:
        rows = super().qs
        if not (self.is_bound and self.form.cleaned_data.get("sort")):
            rows = self.filters["sort"].filter(rows, [self.default_sort])
        # The id breaks ties in the sort's direction, so one index on (key, id) serves
        # the sort both ways; pages, API and export list in this one order.
        return ordered(rows)

    def search(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return qs
        match = Q(number__icontains=value) | Q(title__icontains=value)
        for field in self.search_fields:
            match |= Q(**{f"{field}__icontains": value})
        return qs.filter(match)

    def _open_states(self) -> list[str]:
        """The workflow's states but the closed ones: named, so that the state index
        finds them (a "not closed" condition reads every row)."""
        from .records import kind_of

        kind = kind_of(self._meta.model)
        return [s for s in kind.workflow.states() if s not in kind.closed_states]

    def by_state(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == "active":
            return qs.filter(state__in=self._open_states())
        return qs.filter(state=value)

    def only_overdue(self, qs: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        overdue = Q(due_date__lt=timezone.localdate()) & Q(state__in=self._open_states())
        return qs.filter(overdue) if value else qs.exclude(overdue)

    def only_mine(self, qs: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        actor = getattr(self.request, "auth", None) or getattr(self.request, "user", None)
        pk = getattr(actor, "pk", None)
        return qs.filter(owner_id=pk) if value else qs.exclude(owner_id=pk)

    def errors_by_field(self) -> dict[str, list[str]]:
        """The form's errors, as `{filter: [message]}` (empty when valid)."""
        errors: forms.utils.ErrorDict = self.form.errors
        return {name: [str(m) for m in messages] for name, messages in errors.items()}
