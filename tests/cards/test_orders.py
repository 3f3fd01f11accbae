"""Card orders: who may order, one open order per person, the provisional certificate offer, and
each status change with its audit event and notice."""

from __future__ import annotations

import datetime as dt

import pytest

from assure.cards import exceptions
from assure.cards.models import CardOrder
from assure.cards.services import card_order_create, card_order_status_change
from assure.core.models import AuditEvent
from assure.core.services import Actor
from assure.notifications.models import OutboxMessage
from tests.cards.conftest import actor_for
from tests.members.factories import BeneficiaryFactory, MemberFactory

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


def order(member, person="self", departure=None):
    return card_order_create(
        actor=actor_for(member), member=member, person=person, departure_date=departure
    )


def test_an_order_for_oneself_arrives_in_about_ten_days(member):
    created = order(member)
    assert created.status == "ordered"
    assert created.person_key == "self"
    assert created.beneficiary is None
    assert created.expected_by == dt.date(2026, 12, 6)
    assert created.certificate_offered is False
    event = AuditEvent.objects.get(action="card_order.created")
    assert (event.member_id, event.object_id) == (member.pk, str(created.pk))
    notice = OutboxMessage.objects.get(template="cards_order_status")
    assert notice.recipient == {"email": member.email}
    assert "06/12/2026" in notice.body
    assert "certificat provisoire" not in notice.body


def test_an_order_for_a_child(member):
    lea = member.beneficiaries.get()
    created = order(member, str(lea.pk))
    assert created.beneficiary == lea
    assert created.person_key == f"b{lea.pk}"
    assert "pour Léa" in OutboxMessage.objects.get(template="cards_order_status").body


@pytest.mark.parametrize(
    ("departure", "offered"),
    [
        (dt.date(2026, 11, 30), True),
        (dt.date(2026, 12, 6), True),  # the day it is expected: too tight to rely on it
        (dt.date(2026, 12, 7), False),
        (None, False),
    ],
)
def test_a_near_departure_offers_the_provisional_certificate(member, departure, offered):
    created = order(member, departure=departure)
    assert created.certificate_offered is offered
    body = OutboxMessage.objects.get(template="cards_order_status").body
    assert ("certificat provisoire" in body) is offered


def test_a_departure_in_the_past_is_refused(member):
    with pytest.raises(exceptions.InvalidDeparture):
        order(member, departure=dt.date(2026, 11, 25))


def test_coverage_must_be_active(member):
    member.coverage_end = dt.date(2026, 11, 1)
    member.save()
    with pytest.raises(exceptions.CoverageInactive):
        order(member)
    assert not CardOrder.objects.exists()


def test_another_members_beneficiary_is_unknown(member):
    stranger = BeneficiaryFactory(member=MemberFactory())
    with pytest.raises(exceptions.UnknownPerson):
        order(member, str(stranger.pk))
    with pytest.raises(exceptions.UnknownPerson):
        order(member, "not-a-number")


def test_one_open_order_per_person(member):
    first = order(member)
    with pytest.raises(exceptions.OrderAlreadyOpen):
        order(member)
    order(member, str(member.beneficiaries.get().pk))  # another person: fine
    for status in ("in_production", "sent", "delivered"):
        card_order_status_change(actor=SYSTEM, order_id=first.pk, status=status)
    again = order(member)  # the card arrived: a new one may be ordered (lost, expired)
    assert again.pk != first.pk
    assert AuditEvent.objects.filter(action="card_order.created").count() == 3


def test_a_returned_card_closes_the_order_and_is_explained(member):
    created = order(member)
    card_order_status_change(actor=SYSTEM, order_id=created.pk, status="in_production")
    card_order_status_change(actor=SYSTEM, order_id=created.pk, status="sent")
    returned, changed = card_order_status_change(
        actor=SYSTEM,
        order_id=created.pk,
        status="returned",
        on=dt.date(2026, 12, 10),
        reason="address_unknown",
    )
    assert changed
    assert (returned.status, returned.returned_at) == ("returned", dt.date(2026, 12, 10))
    notice = OutboxMessage.objects.filter(template="cards_order_status").order_by("-id").first()
    assert "retournée" in notice.body
    assert "adresse" in notice.body
    assert "profil" in notice.body
    assert order(member).status == "ordered"


def test_every_change_is_audited_and_notified_once(member):
    created = order(member)
    for status in ("in_production", "sent", "delivered"):
        _order, changed = card_order_status_change(actor=SYSTEM, order_id=created.pk, status=status)
        assert changed
    _order, changed = card_order_status_change(
        actor=SYSTEM, order_id=created.pk, status="delivered"
    )
    assert not changed
    changes = AuditEvent.objects.filter(action="card_order.status_changed").order_by("id")
    assert [(e.data["from"], e.data["to"]) for e in changes] == [
        ("ordered", "in_production"),
        ("in_production", "sent"),
        ("sent", "delivered"),
    ]
    assert OutboxMessage.objects.filter(template="cards_order_status").count() == 4


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], "sent"),
        ([], "delivered"),
        (["in_production"], "delivered"),
        (["in_production", "sent", "delivered"], "returned"),
    ],
)
def test_statuses_only_move_forward(member, path, target):
    created = order(member)
    for status in path:
        card_order_status_change(actor=SYSTEM, order_id=created.pk, status=status)
    with pytest.raises(exceptions.InvalidTransition):
        card_order_status_change(actor=SYSTEM, order_id=created.pk, status=target)


def test_a_member_without_email_gets_a_letter(member):
    member.email = None
    member.save()
    order(member)
    notice = OutboxMessage.objects.get(template="cards_order_status")
    assert notice.channel == "letter"
    assert notice.recipient["postal_code"] == member.postal_code
