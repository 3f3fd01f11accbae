"""`{% messaging_unread_notice %}`: the unread answers, for Accueil (which another area renders).

    {% load messaging %}{% messaging_unread_notice %}

Shows nothing to anyone but a signed-in member, and nothing when every answer has been read.
"""

from __future__ import annotations

from typing import Any

from django.template import Library

from assure.messaging.selectors import thread_unread_count_for_member

register = Library()


@register.inclusion_tag("messaging/unread_notice.html", takes_context=True)
def messaging_unread_notice(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    member = getattr(request, "member", None)
    count = thread_unread_count_for_member(member=member) if member is not None else 0
    return {"unread": count}
