"""Carte européenne in a real browser: an order with a near departure offers the certificate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.e2e.conftest import assert_accessible, assert_no_horizontal_overflow
from tests.e2e.test_documents import sign_in
from tests.members.factories import BeneficiaryFactory, MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_order_a_card_with_a_near_departure(viewport, request, live_server):
    page = request.getfixturevalue(viewport)
    member = MemberFactory(given_names="Zoé", birth_name="MARTIN")
    BeneficiaryFactory(member=member, given_names="Léa", birth_name="MARTIN")
    sign_in(page, live_server, member)
    page.goto("/carte-europeenne/")
    assert_accessible(page)
    page.get_by_role("button", name="Commander une carte").click()
    assert_accessible(page)
    page.get_by_label("Léa MARTIN").check()
    departure = timezone.localdate() + dt.timedelta(days=3)
    page.get_by_label("Date de départ (facultatif)").fill(departure.strftime("%d/%m/%Y"))
    page.get_by_role("button", name="Commander", exact=True).click()
    assert page.locator("h1").inner_text() == "Carte européenne de Léa"
    assert page.get_by_text("peut-être trop tard").is_visible()
    assert_accessible(page)
    if viewport == "mobile_page":
        assert_no_horizontal_overflow(page)
    page.get_by_role("button", name="Obtenir le certificat provisoire").click()
    assert page.get_by_text("Votre attestation est prête").is_visible()
    assert page.get_by_text("Certificat provisoire de remplacement").first.is_visible()
    assert_accessible(page)
    if viewport == "mobile_page":
        assert_no_horizontal_overflow(page)
