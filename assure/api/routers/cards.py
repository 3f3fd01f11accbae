"""ehic/orders: European Health Insurance Card orders (API.md, "Member")."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from assure.api.auth import member_auth
from assure.api.routers.auth import ProblemOut
from assure.cards import selectors, services
from assure.cards.models import CardOrder
from assure.identity.services import member_actor
from assure.members.models import Member

router = Router(tags=["ehic"], auth=member_auth)

StatusName = Literal["ordered", "in_production", "sent", "delivered", "returned"]
ReturnReasonName = Literal["address_unknown", "not_collected", "damaged", "other"]


class CardOrderIn(Schema):
    person: int | Literal["self"]
    departure_date: dt.date | None = None


class CardOrderOut(Schema):
    id: int
    person: int | Literal["self"]
    status: StatusName
    ordered_at: dt.datetime
    expected_by: dt.date
    certificate_offered: bool
    departure_date: dt.date | None
    return_reason: ReturnReasonName | None


class CardOrderListOut(Schema):
    items: list[CardOrderOut]
    next: str | None


def _member(request: HttpRequest) -> Member:
    return request.member  # type: ignore[attr-defined, no-any-return]


def order_out(order: CardOrder) -> CardOrderOut:
    return CardOrderOut(
        id=order.pk,
        person=order.beneficiary_id if order.beneficiary_id else "self",
        status=order.status,  # type: ignore[arg-type]
        ordered_at=order.ordered_at,
        expected_by=order.expected_by,
        certificate_offered=order.certificate_offered,
        departure_date=order.departure_date,
        return_reason=order.return_reason or None,  # type: ignore[arg-type]
    )


@router.get(
    "ehic/orders",
    response={200: CardOrderListOut, 401: ProblemOut},
    operation_id="ehic_orders_list",
    summary="The member's card orders, newest first",
)
def ehic_orders_list(request: HttpRequest) -> CardOrderListOut:
    orders = selectors.card_order_list_for_member(member=_member(request))
    return CardOrderListOut(items=[order_out(o) for o in orders], next=None)


@router.post(
    "ehic/orders",
    response={201: CardOrderOut, 400: ProblemOut, 401: ProblemOut, 409: ProblemOut},
    operation_id="ehic_orders_create",
    summary="Order a European Health Insurance Card for the member or a beneficiary",
)
def ehic_orders_create(request: HttpRequest, body: CardOrderIn) -> Status:
    member = _member(request)
    order = services.card_order_create(
        actor=member_actor(member),
        member=member,
        person=str(body.person),
        departure_date=body.departure_date,
    )
    return Status(201, order_out(order))
