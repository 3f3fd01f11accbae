"""French formatting of money and dates for the payments pages: `1 234,56 €`, `06/11/2026`.

Written out rather than left to the active locale: a member reading the English pages still sees
euros and dates as their statements and bank show them. The separators are no-break spaces, so a
figure never splits across two lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()

NBSP = "\u00a0"


def format_euros(value: Any) -> str:
    """1234.5 → "1 234,50 €" (no-break spaces); empty for a missing value."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    units, _sep, cents = f"{abs(amount):.2f}".partition(".")
    groups: list[str] = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    return f"{sign}{NBSP.join(groups)},{cents}{NBSP}€"


def format_date(value: Any) -> str:
    """A date as DD/MM/YYYY; empty for a missing value."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        return ""
    return value.strftime("%d/%m/%Y")


@register.filter
def euros(value: Any) -> str:
    return format_euros(value)


@register.filter
def date_fr(value: Any) -> str:
    return format_date(value)
