"""Card orders in the back office: today's orders, returned cards, the export to the card maker."""

from __future__ import annotations

import pytest

from assure.backoffice import roles
from assure.cards.models import CardOrder
from assure.cards.services import card_order_create, card_order_status_change
from assure.core.services import Actor
from tests.backoffice.helpers import signed_in, staff_user
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _order() -> CardOrder:
    member = MemberFactory()
    return card_order_create(actor=Actor.system(), member=member, person="self")


def test_advisors_see_todays_orders_and_returned_cards(settings, tmp_path):
    settings.CARDS_EXPORT_DIR = tmp_path
    fresh, back = _order(), _order()
    for status in ("in_production", "sent", "returned"):
        card_order_status_change(
            actor=Actor.system(), order_id=back.pk, status=status, reason="address_unknown"
        )
    client = signed_in(staff_user())
    page = client.get("/backoffice/cartes/").content.decode()
    assert fresh.member.family_name in page
    assert 'id="count-returned">1<' in page
    assert "Adresse inconnue" in page


def test_the_export_marks_orders_in_production(settings, tmp_path):
    settings.CARDS_EXPORT_DIR = tmp_path
    order = _order()
    client = signed_in(staff_user())
    response = client.post("/backoffice/cartes/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == CardOrder.Status.IN_PRODUCTION
    assert list(tmp_path.iterdir())


def test_administrators_do_not_process_cards():
    client = signed_in(staff_user(role=roles.ADMIN))
    assert client.get("/backoffice/cartes/").status_code == 403
    assert client.post("/backoffice/cartes/").status_code == 403
