"""Writes of the cards app: ordering a card, and each step of its way to the member.

Every status change is one transaction holding the change, its audit event and the member's
notice in the outbox. The card maker's files come in through `card_order_status_change` too, so a
status reached from the command line and one reached from the back office leave the same trace.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from assure.cards.exceptions import (
    CoverageInactive,
    InvalidDeparture,
    InvalidTransition,
    OrderAlreadyOpen,
    UnknownPerson,
)
from assure.cards.models import CardOrder
from assure.core.services import Actor, audit_record
from assure.identity.models import Account
from assure.members.models import Beneficiary, Member
from assure.notifications.postal import PostalRecipient
from assure.notifications.services import email_queue, letter_queue

SELF = "self"
Status = CardOrder.Status

# Which status may follow which; anything else is refused (a file replayed is simply "unchanged").
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.ORDERED: frozenset({Status.IN_PRODUCTION}),
    Status.IN_PRODUCTION: frozenset({Status.SENT, Status.RETURNED}),
    Status.SENT: frozenset({Status.DELIVERED, Status.RETURNED}),
    Status.DELIVERED: frozenset(),
    Status.RETURNED: frozenset(),
}

RANK: dict[str, int] = {
    Status.ORDERED: 0,
    Status.IN_PRODUCTION: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.RETURNED: 3,
}


def person_key(beneficiary: Beneficiary | None) -> str:
    return SELF if beneficiary is None else f"b{beneficiary.pk}"


def coverage_active(member: Member, today: dt.date) -> bool:
    return member.coverage_start <= today and (
        member.coverage_end is None or member.coverage_end >= today
    )


def expected_delivery(ordered_on: dt.date) -> dt.date:
    return ordered_on + dt.timedelta(days=settings.CARDS_EHIC_DELIVERY_DAYS)


def certificate_needed(departure: dt.date | None, expected_by: dt.date) -> bool:
    """A departure before the card is expected: the provisional certificate is offered at once."""
    return departure is not None and departure <= expected_by


def _beneficiary(member: Member, person: str) -> Beneficiary | None:
    if person == SELF:
        return None
    try:
        pk = int(person)
    except (TypeError, ValueError):
        raise UnknownPerson(errors={"person": ["unknown"]}) from None
    found = Beneficiary.objects.filter(member_id=member.pk, pk=pk, active=True).first()
    if found is None:
        raise UnknownPerson(errors={"person": ["unknown"]})
    return found


def _contact_email(member: Member) -> str:
    account = Account.objects.filter(member_id=member.pk).first()
    if account is not None and account.contact_email:
        return account.contact_email
    return member.email or ""


def _notice(order: CardOrder, member: Member) -> None:
    """The member is told of each step: by e-mail, or by post when no address is known."""
    person = order.person
    context = {
        "given_names": member.given_names.split(" ")[0],
        "family_name": member.family_name,
        "person": f"{person.given_names}",
        "for_self": order.beneficiary_id is None,
        "status": order.status,
        "expected_by": order.expected_by,
        "return_reason": order.return_reason,
        "certificate_offered": order.certificate_offered,
    }
    key = f"card-order:{order.pk}:{order.status}"
    email = _contact_email(member)
    if email:
        email_queue(
            to=email,
            template="cards_order_status",
            context=context,
            idempotency_key=key,
            member_id=member.pk,
        )
        return
    lines = [member.address_line1] + ([member.address_line2] if member.address_line2 else [])
    letter_queue(
        recipient=PostalRecipient(
            name=f"{member.given_names} {member.family_name}",
            lines=tuple(lines),
            postal_code=member.postal_code,
            city=member.city,
            country="FRANCE" if member.country in {"", "FR"} else member.country,
        ),
        template="cards_order_status",
        context=context,
        idempotency_key=key,
        member_id=member.pk,
    )


def card_order_create(
    *, actor: Actor, member: Member, person: str, departure_date: dt.date | None = None
) -> CardOrder:
    """Order a card for the member or one of their beneficiaries; one open order per person."""
    now = timezone.now()
    today = timezone.localdate(now)
    if not coverage_active(member, today):
        raise CoverageInactive()
    if departure_date is not None and departure_date < today:
        raise InvalidDeparture(errors={"departure_date": ["in_past"]})
    beneficiary = _beneficiary(member, person)
    expected_by = expected_delivery(today)
    try:
        with transaction.atomic():
            order = CardOrder.objects.create(
                member=member,
                beneficiary=beneficiary,
                person_key=person_key(beneficiary),
                status=Status.ORDERED,
                ordered_at=now,
                expected_by=expected_by,
                departure_date=departure_date,
                certificate_offered=certificate_needed(departure_date, expected_by),
            )
            audit_record(
                actor=actor,
                action="card_order.created",
                member_id=member.pk,
                object_type="card_order",
                object_id=order.pk,
                data={"person": order.person_key, "status": order.status},
            )
            _notice(order, member)
    except IntegrityError:
        # The partial unique index: an open order for this person exists (perhaps made a moment
        # ago in another tab); the database, not a prior read, settles it.
        raise OrderAlreadyOpen() from None
    return order


def card_order_status_change(
    *,
    actor: Actor,
    order_id: int,
    status: str,
    on: dt.date | None = None,
    reason: str = "",
) -> tuple[CardOrder, bool]:
    """Move an order to `status`; (order, changed). The same status again changes nothing."""
    on = on or timezone.localdate()
    with transaction.atomic():
        order = CardOrder.objects.select_for_update().select_related("member").get(pk=order_id)
        if status == order.status or RANK.get(status, 99) < RANK[order.status]:
            # Already there or past it: a status file read twice changes nothing.
            return order, False
        if status not in TRANSITIONS.get(order.status, frozenset()):
            raise InvalidTransition(extra={"from": order.status, "to": status})
        if status == Status.RETURNED and reason not in CardOrder.ReturnReason.values:
            reason = CardOrder.ReturnReason.OTHER
        previous = order.status
        order.status = status
        fields = ["status", "updated_at"]
        if status == Status.IN_PRODUCTION:
            order.exported_at = timezone.now()
            fields.append("exported_at")
        elif status == Status.SENT:
            order.sent_at = on
            fields.append("sent_at")
        elif status == Status.DELIVERED:
            order.delivered_at = on
            fields.append("delivered_at")
        elif status == Status.RETURNED:
            order.returned_at = on
            order.return_reason = reason
            fields += ["returned_at", "return_reason"]
        order.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="card_order.status_changed",
            member_id=order.member_id,
            object_type="card_order",
            object_id=order.pk,
            reason=reason,
            data={"from": previous, "to": status},
        )
        _notice(order, order.member)
    return order, True
