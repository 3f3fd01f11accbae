"""The twelve-month chart of Accueil, laid out here and drawn by a template as inline SVG.

Drawn on the server: no JavaScript, nothing for the strict CSP to refuse, and it prints. The
figures are also given as a table beside it (the text alternative), so the chart adds nothing a
screen-reader user would miss. Colours are presentation attributes, which the CSP allows, and
were picked to keep a 3:1 contrast against white for each bar segment.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format

from assure.payments.models import Category
from assure.payments.selectors import MonthBar
from assure.payments.templatetags.payments_format import format_euros

WIDTH = 640
HEIGHT = 240
LEFT = 56
BOTTOM = 28
TOP = 12
# Categories shown by colour; the rest are summed as "other" so the legend stays short.
COLOURS = {
    "consultation": "#1d5c8c",
    "pharmacy": "#00703c",
    "paramedical": "#8e4a00",
    "dental": "#6f2c91",
    "other": "#505a5f",
}


@dataclass(frozen=True)
class Segment:
    x: int
    y: int
    width: int
    height: int
    colour: str
    label: str


@dataclass(frozen=True)
class Tick:
    y: int
    label: str


@dataclass(frozen=True)
class MonthColumn:
    label: str  # "nov. 2026"
    short: str  # "11/26"
    x_label: int
    total: Decimal
    total_text: str
    segments: list[Segment]
    by_category: list[tuple[str, str]]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    columns: list[MonthColumn]
    ticks: list[Tick]
    legend: list[tuple[str, str]]  # (colour, label)
    baseline: int
    left: int
    empty: bool


def _group(category: str) -> str:
    return category if category in COLOURS else "other"


def _label(group: str) -> str:
    return str(Category(group).label)


def _nice_max(value: Decimal) -> Decimal:
    """A round top for the axis: 1, 2 or 5 times a power of ten, at least €10."""
    top = Decimal(10)
    factors = itertools.cycle((Decimal(2), Decimal("2.5"), Decimal(2)))  # 20, 50, 100, 200…
    while top < value:
        top *= next(factors)
    return top


def monthly_chart(bars: Sequence[MonthBar]) -> Chart:
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - 8
    step = plot_width // max(1, len(bars))
    bar_width = max(4, int(step * 0.6))
    largest = max((bar.total for bar in bars), default=Decimal(0))
    top = _nice_max(largest)
    baseline = TOP + plot_height

    columns = []
    for index, bar in enumerate(bars):
        grouped: dict[str, Decimal] = {}
        for category, amount in bar.by_category.items():
            grouped[_group(category)] = grouped.get(_group(category), Decimal(0)) + amount
        x = LEFT + index * step + (step - bar_width) // 2
        y = baseline
        segments = []
        for group in COLOURS:
            share = grouped.get(group)
            if not share:
                continue
            height = max(1, int(share / top * plot_height))
            y -= height
            segments.append(
                Segment(
                    x=x,
                    y=y,
                    width=bar_width,
                    height=height,
                    colour=COLOURS[group],
                    label=f"{_label(group)} : {format_euros(share)}",
                )
            )
        columns.append(
            MonthColumn(
                label=date_format(bar.month, "F Y"),
                short=bar.month.strftime("%m/%y"),
                x_label=x + bar_width // 2,
                total=bar.total,
                total_text=format_euros(bar.total),
                segments=segments,
                by_category=[
                    (_label(group), format_euros(grouped[group]))
                    for group in COLOURS
                    if grouped.get(group)
                ],
            )
        )
    ticks = [
        Tick(y=baseline - int(plot_height * i / 4), label=format_euros(top * i / 4))
        for i in range(5)
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        columns=columns,
        ticks=ticks,
        legend=[(colour, _label(group)) for group, colour in COLOURS.items()],
        baseline=baseline,
        left=LEFT,
        empty=largest == 0,
    )
