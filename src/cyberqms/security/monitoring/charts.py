"""The monitoring page's charts as server-rendered SVG geometry, and the figures' wording.

Sizes and positions are computed here and written as SVG attributes: the strict CSP
forbids inline styles and scripts, so the charts need neither. Colours come from classes
in app.css (one per alert level).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .metrics import DayRow, RatePoint, ReasonCount, RuleRow

STACK_ORDER = ("informational", "low", "medium", "high", "critical")  # bottom to top

WIDTH = 640  # viewBox units: the charts scale to the panel, about 1:1 on a laptop
DAYS_HEIGHT = 180
SPARK_HEIGHT = 110
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 10, 24  # plot margins, room for the axis labels


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class DaysChart:
    width: int
    height: int
    rects: list[Rect]
    y_ticks: list[Tick]  # gridline at y, label left of the plot
    x_ticks: list[Tick]  # labels under the plot
    plot_left: float
    plot_right: float
    peak: int


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    line: str  # SVG path data
    area: str
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    plot_left: float
    plot_right: float
    baseline: float


@dataclass(frozen=True)
class BarRow:
    """One row of a horizontal bar list (SVG viewBox 0 0 100 10)."""

    label: str
    value: int
    pct: float
    css: str = ""
    part_pct: float = 0.0  # a highlighted part of the bar (false positives)


def nice_step(peak: float, intervals: int = 4) -> float:
    """A step of 1, 2 or 5 × 10^k such that `intervals` steps cover `peak`."""
    if peak <= 0:
        return 1.0
    raw = peak / intervals
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def axis(peak: float, *, whole: bool = False) -> tuple[float, int]:
    """(step, intervals) of a value axis from 0 to just above `peak`: at most 4 nice
    steps; whole-number steps for counts."""
    step = nice_step(peak)
    if whole:
        step = max(1.0, float(math.ceil(step)))
    intervals = max(1, math.ceil(peak / step - 1e-9)) if peak > 0 else 1
    return step, intervals


def _x_ticks(count: int, x_of: list[float], labels: list[str], height: int, most: int = 8
             ) -> list[Tick]:
    """Labels under the plot, at most `most` of them, evenly spread."""
    if not count:
        return []
    every = max(1, math.ceil(count / most))
    return [Tick(x_of[i], height - 6, labels[i]) for i in range(0, count, every)]


def days_chart(days: Sequence[DayRow]) -> DaysChart:
    """Alerts per day, stacked by level (informational at the bottom, critical on top)."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = DAYS_HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    peak = max((d.total for d in days), default=0)
    step, intervals = axis(peak, whole=True)
    scale = plot_h / (step * intervals)
    slot = plot_w / max(len(days), 1)
    bar = max(min(slot * 0.72, 28), 1.0)
    rects: list[Rect] = []
    centres: list[float] = []
    for i, day in enumerate(days):
        x = LEFT + i * slot + (slot - bar) / 2
        centres.append(round(LEFT + i * slot + slot / 2, 1))
        y: float = base
        for level in STACK_ORDER:
            n = day.by_level.get(level, 0)
            if not n:
                continue
            height = n * scale
            y -= height
            rects.append(Rect(round(x, 1), round(y, 1), round(bar, 1), round(height, 1),
                              f"lvl-{level}", f"{day.day:%Y-%m-%d}: {n} {level}"))
    y_ticks = [Tick(LEFT - 6, round(base - k * step * scale, 1), f"{k * step:g}")
               for k in range(intervals + 1)]
    labels = [f"{d.day:%b %d}" for d in days]
    return DaysChart(WIDTH, DAYS_HEIGHT, rects, y_ticks,
                     _x_ticks(len(days), centres, labels, DAYS_HEIGHT), LEFT, WIDTH - RIGHT,
                     peak)


def sparkline(series: Sequence[RatePoint], bucket_seconds: int) -> Sparkline:
    """Events per second over the period as a line over a filled area."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = SPARK_HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    peak = max((p.per_second for p in series), default=0.0)
    step, intervals = axis(peak) if peak > 0 else (0.25, 4)
    scale = plot_h / (step * intervals)
    n = len(series)
    xs = [round(LEFT + (i * plot_w / (n - 1) if n > 1 else plot_w / 2), 1) for i in range(n)]
    points = [f"{x},{round(base - p.per_second * scale, 1)}"
              for x, p in zip(xs, series, strict=True)]
    line = ("M" + " L".join(points)) if points else ""
    area = f"M{xs[0]},{base} L" + " L".join(points) + f" L{xs[-1]},{base} Z" if points else ""
    y_ticks = [Tick(LEFT - 6, round(base - k * step * scale, 1), f"{k * step:g}")
               for k in range(intervals + 1)]
    fmt = "%b %d" if bucket_seconds >= 86400 or n > 48 else "%H:%M"
    labels = [f"{p.start:{fmt}}" for p in series]
    # Hourly buckets over days: label the midnight buckets only.
    if bucket_seconds < 86400 < n * bucket_seconds:
        midnights = [i for i, p in enumerate(series) if p.start.hour == 0]
        every = max(1, math.ceil(len(midnights) / 8))
        x_ticks = [Tick(xs[i], SPARK_HEIGHT - 6, labels[i]) for i in midnights[::every]]
    else:
        x_ticks = _x_ticks(n, xs, labels, SPARK_HEIGHT)
    return Sparkline(WIDTH, SPARK_HEIGHT, line, area, y_ticks, x_ticks, LEFT, WIDTH - RIGHT,
                     base)


def rule_bars(rows: Sequence[RuleRow]) -> list[tuple[RuleRow, BarRow]]:
    """Alerts per rule, with the share closed as false positives highlighted."""
    most = max((r.alerts for r in rows), default=0) or 1
    return [
        (row, BarRow(row.title, row.alerts, round(100 * row.alerts / most, 1),
                     f"lvl-{row.level}", round(100 * row.false_positives / most, 1)))
        for row in rows
    ]


def reason_bars(reasons: Sequence[ReasonCount]) -> list[BarRow]:
    most = max((r.count for r in reasons), default=0) or 1
    return [BarRow(r.reason, r.count, round(100 * r.count / most, 1)) for r in reasons]


# --- wording ---------------------------------------------------------------------------------


def format_duration(seconds: float | None) -> str:
    """42 s, 7 min, 3.5 h, 2.1 d; an em dash when there is nothing to measure."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def format_rate(per_second: float) -> str:
    """Events per second: two significant digits below 10 (0.0034), fewer above."""
    if per_second == 0:
        return "0"
    if per_second < 0.0001:
        return "<0.0001"
    if per_second < 0.01:
        return f"{per_second:.2g}"
    if per_second < 10:
        return f"{per_second:.2f}"
    if per_second < 100:
        return f"{per_second:.1f}"
    return f"{per_second:,.0f}"


def format_share(rate: float | None) -> str:
    """A share in percent: whole numbers, one decimal below 10 % (0.2 % is not 0 %)."""
    if rate is None:
        return "—"
    if 0 < rate < 0.1:
        return f"{100 * rate:.1f}%"
    return f"{100 * rate:.0f}%"


def format_when(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M}"
