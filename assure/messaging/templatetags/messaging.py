"""`{% messaging_unread_notice %}`: the unread answers, for Accueil (which another area renders).

    {% load messaging %}{% messaging_unread_notice %}

Shows nothing to anyone but a signed-in member, and nothing when every answer has been read.

`{% queue_rows threads %}`: the lines of an advisor's queue (`QueueRow`s).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django.template import Library
from django.utils.safestring import SafeString, mark_safe

from assure.messaging.selectors import QueueRow, thread_unread_count_for_member

register = Library()


@register.inclusion_tag("messaging/unread_notice.html", takes_context=True)
def messaging_unread_notice(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    member = getattr(request, "member", None)
    count = thread_unread_count_for_member(member=member) if member is not None else 0
    return {"unread": count}


@register.simple_tag
def queue_rows(rows: Iterable[QueueRow]) -> SafeString:
    """The lines of a queue, as `messaging/staff/includes/queue_rows.html` writes them (a test
    keeps both equal). Written here because a queue page lists a hundred lines of five cells,
    and the template engine's cost per cell was most of the page's time."""
    esc = html.escape
    return mark_safe(  # noqa: S308 - every value is escaped
        "".join(
            '<tr class="govuk-table__row">\n'
            f'    <td class="govuk-table__cell"><a class="govuk-link" href="{esc(row.url)}">'
            f"{esc(row.subject)}</a></td>\n"
            f'    <td class="govuk-table__cell">{esc(row.member)}</td>\n'
            f'    <td class="govuk-table__cell">{esc(row.team)}</td>\n'
            f'    <td class="govuk-table__cell">{esc(row.due)}</td>\n'
            f'    <td class="govuk-table__cell">{esc(row.advisor)}</td>\n'
            "  </tr>\n  "
            for row in rows
        )
    )
