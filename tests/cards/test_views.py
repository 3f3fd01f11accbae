"""Carte européenne pages: ordering, following an order, the certificate offer, owner scoping."""

from __future__ import annotations

import re

import pytest

from assure.cards.models import CardOrder
from assure.cards.services import card_order_create, card_order_status_change
from assure.core.services import Actor
from assure.documents.models import Certificate
from tests.cards.conftest import actor_for
from tests.members.factories import MemberFactory
from tests.payments.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client, member):
    sign_in(client, member)
    return client


def _shape(response, path: str) -> bytes:
    body = response.content.replace(path.encode(), b"PATH")
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"CSRF", body)


def test_pages_need_a_signed_in_member(client):
    for path in ("/carte-europeenne/", "/carte-europeenne/commander/", "/carte-europeenne/1/"):
        assert client.get(path).status_code == 302, path


def test_order_with_a_near_departure_offers_the_certificate(member_client, member):
    page = member_client.get("/carte-europeenne/commander/").content.decode()
    assert "Léa MARTIN" in page
    response = member_client.post(
        "/carte-europeenne/commander/", {"person": "self", "departure_date": "01/12/2026"}
    )
    order = CardOrder.objects.get(member=member)
    assert response.status_code == 302
    assert response["Location"] == f"/carte-europeenne/{order.pk}/"
    detail = member_client.get(response["Location"]).content.decode()
    assert "Obtenir le certificat provisoire" in detail
    assert 'action="/mes-attestations/nouvelle/certificat-provisoire/"' in detail
    assert "06/12/2026" in detail
    # The offer's button issues the certificate for the same person.
    issued = member_client.post(
        "/mes-attestations/nouvelle/certificat-provisoire/", {"person": "self"}
    )
    assert issued.status_code == 302
    assert Certificate.objects.get(member=member).kind == "ehic_provisional"


def test_order_without_departure_offers_nothing(member_client, member):
    lea = member.beneficiaries.get()
    response = member_client.post("/carte-europeenne/commander/", {"person": str(lea.pk)})
    detail = member_client.get(response["Location"]).content.decode()
    assert "Carte européenne de Léa" in detail
    assert "certificat provisoire" not in detail


def test_a_second_open_order_is_a_form_error(member_client, member):
    member_client.post("/carte-europeenne/commander/", {"person": "self"})
    response = member_client.post("/carte-europeenne/commander/", {"person": "self"})
    assert response.status_code == 200
    assert "Une carte est déjà en cours pour cette personne" in response.content.decode()
    assert CardOrder.objects.count() == 1


def test_a_past_departure_is_a_field_error(member_client):
    response = member_client.post(
        "/carte-europeenne/commander/", {"person": "self", "departure_date": "01/01/2026"}
    )
    assert "La date de départ ne peut pas être passée." in response.content.decode()
    assert not CardOrder.objects.exists()


def test_a_returned_card_is_explained(member_client, member):
    order = card_order_create(actor=actor_for(member), member=member, person="self")
    system = Actor.system("test")
    for status in ("in_production", "sent"):
        card_order_status_change(actor=system, order_id=order.pk, status=status)
    card_order_status_change(
        actor=system, order_id=order.pk, status="returned", reason="address_unknown"
    )
    page = member_client.get(f"/carte-europeenne/{order.pk}/").content.decode()
    assert "Revenue à la caisse" in page
    assert "Pourquoi la carte est revenue" in page
    assert "Vérifiez votre adresse postale" in page
    listed = member_client.get("/carte-europeenne/").content.decode()
    assert f"/carte-europeenne/{order.pk}/" in listed


def test_another_members_order_is_not_found_like_a_missing_one(member_client):
    other = MemberFactory()
    foreign = card_order_create(actor=actor_for(other), member=other, person="self")
    theirs_path = f"/carte-europeenne/{foreign.pk}/"
    missing_path = f"/carte-europeenne/{foreign.pk + 100}/"
    theirs, missing = member_client.get(theirs_path), member_client.get(missing_path)
    assert theirs.status_code == missing.status_code == 404
    assert _shape(theirs, theirs_path) == _shape(missing, missing_path)
    assert (
        f"/carte-europeenne/{foreign.pk}/"
        not in member_client.get("/carte-europeenne/").content.decode()
    )


def test_list_queries_do_not_grow_with_the_orders(member_client, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lea = member.beneficiaries.get()
    card_order_create(actor=actor_for(member), member=member, person=str(lea.pk))
    with CaptureQueriesContext(connection) as one:
        member_client.get("/carte-europeenne/")
    CardOrder.objects.update(status="delivered")
    for _ in range(3):
        made = card_order_create(actor=actor_for(member), member=member, person=str(lea.pk))
        CardOrder.objects.filter(pk=made.pk).update(status="delivered")
    with CaptureQueriesContext(connection) as four:
        member_client.get("/carte-europeenne/")
    assert len(four) == len(one)
