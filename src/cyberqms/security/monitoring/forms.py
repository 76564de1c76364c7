"""HTML and query input of the monitoring pages: the metrics filter (period, dates, site),
shared by the overview page and `GET /api/v1/monitoring/metrics`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from cyberqms.platform.accounts.models import Site

from .metrics import DEFAULT_PERIOD, MAX_SPAN, PERIODS, period_bounds

EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class MetricsWindow:
    """What the filter chose: [start, end), the site (None: every visible site), and the
    named period (empty when dates were given)."""

    start: datetime
    end: datetime
    site: Site | None
    period: str
    drills: bool = False  # alerts raised by drills counted too

    @property
    def label(self) -> str:
        if self.period:
            return PERIODS[self.period][0]
        last = self.end - timedelta(days=1)
        return f"{self.start:%Y-%m-%d} to {last:%Y-%m-%d}"


class MetricsFilterForm(forms.Form):
    """Period by name (last 24 hours … 90 days) or by dates (UTC days, both inclusive; the
    dates win when given), and one site among those the actor may see."""

    period = forms.ChoiceField(
        required=False, choices=[(key, label) for key, (label, _span) in PERIODS.items()],
    )
    start = forms.DateField(required=False, label="From (UTC)")
    end = forms.DateField(required=False, label="To (UTC)")
    site = forms.ChoiceField(required=False)
    drills = forms.ChoiceField(
        required=False, label="Drills",
        choices=[("", "Left out"), ("include", "Counted")],
        help_text="Alerts raised by attack drills are left out unless counted.")

    def __init__(self, data: Any = None, *, sites: list[Site], now: datetime | None = None
                 ) -> None:
        super().__init__(data)
        self.sites = {site.code: site for site in sites}
        self.now = now or timezone.now()
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ChoiceField)
        site_field.choices = [("", "All sites"), *((code, code) for code in self.sites)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        today = self.now.astimezone(UTC).date()
        if end is not None and start is None:
            self.add_error("start", "Give the first day too.")
        for name, day in (("start", start), ("end", end)):
            if day is not None and not EARLIEST <= day <= today + timedelta(days=1):
                self.add_error(name, f"Choose a day from {EARLIEST} to {today}.")
        if start is not None and end is not None and start > end:
            self.add_error("end", "The last day is before the first.")
        elif start is not None and (end or today) - start >= timedelta(days=MAX_SPAN.days):
            self.add_error("end", f"Choose at most {MAX_SPAN.days} days.")
        return cleaned

    def window(self) -> MetricsWindow:
        """The chosen window; the default (last 30 days, every site) when the form is
        unbound or invalid."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        site = self.sites.get(data.get("site") or "")
        drills = data.get("drills") == "include"
        start_day: date | None = data.get("start")
        if start_day is not None:
            end_day: date = data.get("end") or self.now.astimezone(UTC).date()
            start = datetime.combine(start_day, time.min, tzinfo=UTC)
            end = datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=UTC)
            return MetricsWindow(start, end, site, "", drills)
        period = data.get("period") or DEFAULT_PERIOD
        start, end = period_bounds(period, now=self.now)
        return MetricsWindow(start, end, site, period, drills)

    def problems(self) -> list[dict[str, str]]:
        """The errors as the API's problem details list them."""
        return [{"field": name, "message": str(message)}
                for name, messages in self.errors.items() for message in messages]
