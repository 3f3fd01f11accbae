"""French formatting of money and dates for the payments pages: `1 234,56 €`, `06/11/2026`.

Written out rather than left to the active locale: a member reading the English pages still sees
euros and dates as their statements and bank show them. The separators are no-break spaces, so a
figure never splits across two lines.
"""

from __future__ import annotations

import datetime as dt
import html
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.template import Library
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from assure.core.fixed_urls import reverse_with_id
from assure.payments.models import Statement

register = Library()

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


def _escape_text(value: Any) -> str:
    """`conditional_escape` of a plain value (text from the database, a formatted figure): the
    same five characters replaced, without the check for lazy and safe strings that Django's
    makes on every call (a page escapes some 150 values)."""
    return html.escape(str(value))


def _statement_row(line: Any) -> str:
    """One line of a statement table, as `payments/includes/statement_table.html` writes it."""
    esc = _escape_text
    person = ""
    if line.beneficiary:
        name = esc(line.beneficiary.given_names)
        person = (
            '<br><span class="govuk-hint govuk-!-margin-bottom-0">'
            f"{gettext('pour %(name)s') % {'name': name}}</span>"
        )
    tag = ""
    if line.status != "paid":
        colour = "govuk-tag--red" if line.status == "rejected" else "govuk-tag--yellow"
        label = _status_labels(get_language()).get(line.status) or line.get_status_display()
        tag = f'<br><strong class="govuk-tag {colour}">{esc(label)}</strong>'
    amount = "—" if line.status == "rejected" else esc(format_euros(line.reimbursed))
    href = esc(reverse_with_id("payments:detail", line.pk))
    return (
        '<tr class="govuk-table__row">\n'
        f'      <td class="govuk-table__cell">{esc(format_date(line.care_date))}</td>\n'
        f'      <td class="govuk-table__cell"><a class="govuk-link" href="{href}">'
        f"{esc(line.label)}</a>{person}\n"
        f"        {tag}</td>\n"
        f'      <td class="govuk-table__cell govuk-table__cell--numeric">{amount}</td>\n'
        "    </tr>"
    )


def _statement_table(lines: Any, caption: str) -> str:
    rows = "".join(_statement_row(line) for line in lines)
    return _table_head(get_language(), caption) + f"    {rows}\n  </tbody>\n</table>\n"


@lru_cache(maxsize=8)
def _status_labels(language: str | None) -> dict[str, str]:
    """`get_status_display()` of every state in one language (the model's lookup of a lazy choice
    label costs a translation and a hashing of every choice, line after line)."""
    return {value: str(label) for value, label in Statement.Status.choices}


@register.simple_tag
def statement_table(lines: Any, caption: Any) -> SafeString:
    """A table of statement lines: care date, act (and for whom, and its state), reimbursed.

    Written here rather than as an included template: a page of Mes paiements shows one table per
    payment, and the template engine's cost per include and per line was most of the page's time.
    `payments/includes/statement_table.html` holds the same markup, and a test keeps both equal.
    """
    return mark_safe(  # noqa: S308 - every value above is escaped
        _statement_table(lines, conditional_escape(caption))
    )


@lru_cache(maxsize=8)
def _group_texts(language: str | None) -> dict[str, str]:
    """The headings' texts in one language, looked up once rather than for every group."""
    return {
        "member": gettext("Payé le %(day)s sur votre compte : %(total)s"),
        "provider": gettext("Payé le %(day)s au professionnel de santé : %(total)s"),
        "paid": gettext("Payé le %(day)s"),
        "rejected": conditional_escape(gettext("Remboursement refusé")),
        "processing": conditional_escape(gettext("En cours de traitement")),
        "caption": conditional_escape(gettext("Lignes de ce paiement")),
        "empty": conditional_escape(gettext("Aucun paiement ne correspond à votre recherche.")),
    }


def _group_heading(group: Any, texts: dict[str, str]) -> str:
    esc = _escape_text
    if group.reference:
        text = texts["member"] if group.paid_to == "member" else texts["provider"]
        return text % {
            "day": esc(format_date(group.paid_on)),
            "total": esc(format_euros(group.total)),
        }
    line = group.lines[0]
    if line.status == "rejected":
        return texts["rejected"]
    if line.status == "paid":
        return texts["paid"] % {"day": esc(format_date(line.paid_on))}
    return texts["processing"]


@register.simple_tag
def payment_groups(groups: Any) -> SafeString:
    """Every payment of a page of Mes paiements: its heading, then the table of its lines.

    The same markup as `payments/includes/payment_groups.html` (a test keeps both equal), written
    here because one heading translation, one include and one detail address per payment were
    most of what the page still cost in the template engine.
    """
    texts = _group_texts(get_language())
    if not groups:
        return mark_safe(f'\n<p class="govuk-body">{texts["empty"]}</p>\n')  # noqa: S308
    parts = []
    for number, group in enumerate(groups, start=1):
        parts.append(
            f'\n<section class="govuk-!-margin-bottom-6" aria-labelledby="group-{number}">\n'
            f'  <h2 class="govuk-heading-s" id="group-{number}">'
            f"{_group_heading(group, texts)}</h2>\n"
            f"  {_statement_table(group.lines, texts['caption'])}\n</section>\n"
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


@lru_cache(maxsize=32)
def _table_head(language: str | None, caption: str) -> str:
    """The table's opening, once per language and caption (gettext costs, page after page)."""
    esc = conditional_escape
    return (
        '<table class="govuk-table assure-statements">\n'
        f'  <caption class="govuk-table__caption govuk-visually-hidden">{caption}</caption>\n'
        '  <thead class="govuk-table__head"><tr class="govuk-table__row">\n'
        f'    <th scope="col" class="govuk-table__header">{esc(gettext("Soins du"))}</th>\n'
        f'    <th scope="col" class="govuk-table__header">{esc(gettext("Acte"))}</th>\n'
        '    <th scope="col" class="govuk-table__header govuk-table__header--numeric">'
        f"{esc(gettext('Remboursé'))}</th>\n"
        "  </tr></thead>\n"
        '  <tbody class="govuk-table__body">\n'
    )
