"""Accueil and Mes paiements in a real browser, at desktop width and on a 375 px phone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from assure.identity.middleware import SESSION_KEY
from assure.identity.models import Account, MemberSession
from tests.e2e.conftest import assert_accessible, assert_no_horizontal_overflow
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.factories import AllowancePaymentFactory, SickLeaveFactory, StatementFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _member_with_history():
    member = MemberFactory(given_names="Zoé", birth_name="N'DIAYE")
    child = BeneficiaryFactory(member=member, given_names="Léo")
    today = timezone.localdate()
    for i in range(30):
        care = today - dt.timedelta(days=12 * i + 10)
        StatementFactory(
            member=member,
            beneficiary=child if i % 4 == 0 else None,
            care_date=care,
            received_on=care + dt.timedelta(days=1),
            paid_on=care + dt.timedelta(days=5),
            payment_reference=f"PAY-{i // 2}",
            category=["consultation", "pharmacy", "dental"][i % 3],
            deductible=Decimal("0.00"),
        )
    StatementFactory(
        member=member,
        status="processing",
        paid_on=None,
        payment_reference=None,
        label="Séance de kinésithérapie",
        care_date=today - dt.timedelta(days=3),
        received_on=today - dt.timedelta(days=2),
    )
    leave = SickLeaveFactory(member=member, start=today - dt.timedelta(days=30))
    AllowancePaymentFactory(
        sick_leave=leave,
        period_start=today - dt.timedelta(days=27),
        period_end=today - dt.timedelta(days=14),
        paid_on=today - dt.timedelta(days=8),
    )
    return member


def _sign_in(page: Any, live_server: Any, member) -> None:
    account = Account.objects.create(member=member, secret_code_hash="x", must_change_code=False)
    web = MemberSession.objects.create(account=account, kind=MemberSession.Kind.WEB)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = web.pk
    store.save()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url}]
    )


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_accueil(viewport, request, live_server):
    page = request.getfixturevalue(viewport)
    _sign_in(page, live_server, _member_with_history())
    page.goto("/")
    assert page.locator("h1").inner_text() == "Bonjour Zoé"
    assert page.get_by_text("Séance de kinésithérapie").is_visible()
    chart = page.locator("svg[role=img]")
    assert chart.count() == 1
    assert chart.get_attribute("aria-labelledby") == "chart-svg-title chart-svg-desc"
    page.get_by_text("Voir les montants sous forme de tableau").click()
    assert page.locator("table caption", has_text="Montants remboursés par mois").is_visible()
    assert page.locator("#flat-fee-progress").get_attribute("max") == "50.00"
    if viewport == "mobile_page":
        assert_no_horizontal_overflow(page)
    assert_accessible(page)


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_mes_paiements_filters_pages_and_detail(viewport, request, live_server):
    page = request.getfixturevalue(viewport)
    _sign_in(page, live_server, _member_with_history())
    page.goto("/mes-paiements/")
    assert page.locator("h1").inner_text() == "Mes paiements"
    assert page.locator("h2", has_text="sur votre compte").first.is_visible()
    if viewport == "mobile_page":
        assert_no_horizontal_overflow(page)
    assert_accessible(page)

    page.get_by_text("Filtrer les paiements").click()
    page.get_by_label("État").select_option("pending")
    page.get_by_role("button", name="Afficher").click()
    assert page.locator("table tbody tr").count() == 1
    page.get_by_role("link", name="Séance de kinésithérapie").click()
    assert page.locator("h1").inner_text() == "Séance de kinésithérapie"
    assert page.get_by_text("Pas encore payé").is_visible()
    assert_accessible(page)

    page.goto("/mes-paiements/")
    page.get_by_role("link", name="Paiements plus anciens").click()
    assert "apres=" in page.url
    assert page.locator("table tbody tr").count() >= 1
    assert_accessible(page)


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_mes_indemnites(viewport, request, live_server):
    page = request.getfixturevalue(viewport)
    _sign_in(page, live_server, _member_with_history())
    page.goto("/mes-indemnites/")
    assert page.get_by_text("Prochain paiement attendu vers le").is_visible()
    if viewport == "mobile_page":
        assert_no_horizontal_overflow(page)
    assert_accessible(page)
