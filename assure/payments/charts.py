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
from functools import lru_cache

from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

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

    @property
    def markup(self) -> SafeString:
        """The figure as `payments/includes/chart.html` writes it (see `chart_markup`)."""
        return chart_markup(self)


def _group(category: str) -> str:
    return category if category in COLOURS else "other"


def _label(group: str) -> str:
    return _group_labels(get_language())[group]


@lru_cache(maxsize=8)
def _group_labels(language: str | None) -> dict[str, str]:
    """Each colour group's name in one language (a lazy label is translated on each use)."""
    return {group: str(Category(group).label) for group in COLOURS}


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


def chart_markup(chart: Chart) -> SafeString:
    """The chart's figure: the SVG, its legend and the same figures as a table.

    The same markup as `payments/includes/chart.html` (a test keeps both equal), written here
    because the template engine's cost per rectangle and per cell was most of Accueil's time.
    """
    esc = conditional_escape
    head = (
        '<figure class="assure-chart" aria-labelledby="chart-title">\n'
        '  <h2 class="govuk-heading-m" id="chart-title">'
        f"{esc(gettext('Vos remboursements des 12 derniers mois'))}</h2>\n  "
    )
    if chart.empty:
        empty = esc(gettext("Aucun remboursement payé au cours des 12 derniers mois."))
        return mark_safe(  # noqa: S308 - every value above is escaped
            f'{head}\n  <p class="govuk-body">{empty}</p>\n  \n</figure>\n'
        )
    ticks = "".join(
        f'<line x1="{chart.left}" x2="{chart.width}" y1="{tick.y}" y2="{tick.y}" '
        'stroke="#b1b4b6" stroke-width="1"/>\n'
        f'    <text x="{chart.left - 4}" y="{tick.y + 4}" text-anchor="end" font-size="11" '
        f'fill="#0b0c0c">{esc(tick.label)}</text>\n    '
        for tick in chart.ticks
    )
    columns = "".join(
        "<g>\n      "
        + "".join(
            f'<rect x="{segment.x}" y="{segment.y}" width="{segment.width}" '
            f'height="{segment.height}" fill="{esc(segment.colour)}"><title>'
            f"{esc(column.label)} — {esc(segment.label)}</title></rect>\n      "
            for segment in column.segments
        )
        + f'<text x="{column.x_label}" y="{chart.baseline + 16}" text-anchor="middle" '
        f'font-size="11" fill="#0b0c0c">{esc(column.short)}</text>\n    </g>'
        for column in chart.columns
    )
    legend = "".join(
        '<li><svg width="12" height="12" aria-hidden="true" focusable="false"><rect width="12" '
        f'height="12" fill="{esc(colour)}"/></svg> {esc(label)}</li>\n    '
        for colour, label in chart.legend
    )
    rows = "".join(
        '<tr class="govuk-table__row">\n'
        f'            <th scope="row" class="govuk-table__header">{esc(column.label)}</th>\n'
        '            <td class="govuk-table__cell">'
        + (
            " ; ".join(f"{esc(label)} : {esc(amount)}" for label, amount in column.by_category)
            or "—"
        )
        + "</td>\n"
        '            <td class="govuk-table__cell govuk-table__cell--numeric">'
        f"{esc(column.total_text)}</td>\n          </tr>"
        for column in chart.columns
    )
    return mark_safe(  # noqa: S308 - every value above is escaped
        f"{head}\n"
        f'  <svg viewBox="0 0 {chart.width} {chart.height}" width="100%" role="img" '
        'aria-labelledby="chart-svg-title chart-svg-desc" focusable="false" '
        'xmlns="http://www.w3.org/2000/svg">\n'
        '    <title id="chart-svg-title">'
        f"{esc(gettext('Montants remboursés par mois et par type de soins'))}</title>\n"
        '    <desc id="chart-svg-desc">'
        f"{esc(gettext('Le tableau qui suit le graphique donne les mêmes montants.'))}</desc>\n"
        f"    {ticks}\n"
        f"    {columns}\n"
        "  </svg>\n"
        '  <ul class="govuk-list assure-chart__legend">\n'
        f"    {legend}\n"
        "  </ul>\n"
        '  <details class="govuk-details">\n'
        '    <summary class="govuk-details__summary"><span class="govuk-details__summary-text">'
        f"{esc(gettext('Voir les montants sous forme de tableau'))}</span></summary>\n"
        '    <div class="govuk-details__text assure-scroll" role="region" '
        f'aria-label="{esc(gettext("Montants remboursés par mois"))}" tabindex="0">\n'
        '      <table class="govuk-table">\n'
        '        <caption class="govuk-table__caption govuk-table__caption--s">'
        f"{esc(gettext('Montants remboursés par mois'))}</caption>\n"
        '        <thead class="govuk-table__head"><tr class="govuk-table__row">\n'
        f'          <th scope="col" class="govuk-table__header">{esc(gettext("Mois"))}</th>\n'
        '          <th scope="col" class="govuk-table__header">'
        f"{esc(gettext('Détail par type de soins'))}</th>\n"
        '          <th scope="col" class="govuk-table__header govuk-table__header--numeric">'
        f"{esc(gettext('Total'))}</th>\n"
        "        </tr></thead>\n"
        '        <tbody class="govuk-table__body">\n'
        f"          {rows}\n"
        "        </tbody>\n"
        "      </table>\n"
        "    </div>\n"
        "  </details>\n"
        "  \n</figure>\n"
    )
