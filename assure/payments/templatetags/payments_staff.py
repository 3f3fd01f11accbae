"""`{% member_latest_payments member %}`: a member's latest payments, for staff screens.

Messaging's advisor thread shows it beside the conversation; messaging sits beside payments in the
layers and may not import it, so the link is made in the template, where the advisor needs it.
"""

from __future__ import annotations

from typing import Any

from django.template import Library

from assure.payments.selectors import statement_latest_paid_for_member

register = Library()


@register.inclusion_tag("payments/includes/staff_latest_payments.html")
def member_latest_payments(member: Any, limit: int = 5) -> dict[str, Any]:
    return {"lines": statement_latest_paid_for_member(member=member, limit=limit)}
