"""The twelve-month chart's layout: bars to scale, stacked by category, a round axis."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from assure.payments.charts import COLOURS, monthly_chart
from assure.payments.selectors import MonthBar


def _bars(*amounts):
    return [
        MonthBar(month=dt.date(2026, i + 1, 1), by_category=amounts[i]) for i in range(len(amounts))
    ]


def test_bars_are_to_scale_and_stacked():
    chart = monthly_chart(
        _bars(
            {"consultation": Decimal("19.00"), "pharmacy": Decimal("21.00")},
            {},
            {"optical": Decimal("80.00")},  # shown as "other"
        )
    )
    assert not chart.empty
    assert chart.ticks[-1].label == "100,00\u00a0€"  # the next round figure above €80
    first, empty, third = chart.columns
    assert [s.colour for s in first.segments] == [COLOURS["consultation"], COLOURS["pharmacy"]]
    lower, upper = first.segments
    assert upper.y + upper.height == lower.y  # stacked, no gap
    assert empty.segments == []
    assert third.segments[0].colour == COLOURS["other"]
    assert third.segments[0].height == 2 * (lower.height + upper.height)  # €80 is twice €40
    assert first.total_text == "40,00\u00a0€"
    assert first.by_category == [("Consultation", "19,00\u00a0€"), ("Pharmacie", "21,00\u00a0€")]


def test_nothing_paid_is_an_empty_chart():
    assert monthly_chart(_bars({}, {})).empty


def test_chart_markup_is_the_included_templates_markup():
    from django.template.loader import get_template
    from django.utils import translation

    template = get_template("payments/includes/chart.html")
    charts = [
        monthly_chart(_bars({}, {})),
        monthly_chart(
            _bars(
                {"consultation": Decimal("19.00"), "pharmacy": Decimal("1234.56")},
                {},
                {"optical": Decimal("80.00"), "dental": Decimal("0.50")},
                {"hospital": Decimal("5.00")},
            )
        ),
    ]
    for language in ("fr", "en"):
        with translation.override(language):
            for chart in charts:
                assert str(chart.markup) == template.render({"chart": chart})
