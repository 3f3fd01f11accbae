"""Reads of the cards app, scoped to the member who asks (or to the fund's export)."""

from __future__ import annotations

from django.db.models import QuerySet

from assure.cards.models import CardOrder
from assure.core.compiled import compiled_per_size
from assure.core.exceptions import NotFound
from assure.members.models import Beneficiary, Member

# The largest list read compiled; the callers ask for 10 (advisors' member file) or 100.
_COMPILED_LIMIT = 100


def _orders_query(member_id: int, limit: int) -> QuerySet[CardOrder]:
    return (
        CardOrder.objects.filter(member_id=member_id)
        .select_related("beneficiary")
        .order_by("-ordered_at", "-id")[:limit]
    )


# The list of one length, compiled once (assure.core.compiled).
_orders = compiled_per_size(CardOrder, _orders_query, stand_ins=(-1,))


def card_order_list_for_member(*, member: Member, limit: int = 100) -> list[CardOrder]:
    if 0 < limit <= _COMPILED_LIMIT:
        return _orders(limit).all(member.pk)
    return list(_orders_query(member.pk, limit))


def card_order_get_for_member(*, member: Member, order_id: int) -> CardOrder:
    """The member's order; another member's is "not found", exactly as a missing one."""
    order = (
        CardOrder.objects.filter(member_id=member.pk, pk=order_id)
        .select_related("beneficiary")
        .first()
    )
    if order is None:
        raise NotFound()
    return order


def people_for_member(*, member: Member) -> list[Beneficiary]:
    return list(
        Beneficiary.objects.filter(member_id=member.pk, active=True).order_by("birth_date", "pk")
    )


def card_orders_to_export() -> QuerySet[CardOrder]:
    """Orders the card maker has not received yet, oldest first (a missed day is caught up)."""
    return (
        CardOrder.objects.filter(status=CardOrder.Status.ORDERED)
        .select_related("member", "beneficiary")
        .order_by("ordered_at", "id")
    )
