"""A member's whole account flow in a real browser, at desktop width and at 375 px.

Sign-up → provisional code read from the outbox → first login → definitive code → logout → login
again from a new device (cookies cleared) with the e-mailed security code; axe-core on every page.
"""

from __future__ import annotations

import re

import pytest

from assure.members.models import Member
from tests.e2e.conftest import assert_accessible, assert_no_horizontal_overflow
from tests.identity.helpers import last_message, otp_in, provisional_code_in
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SECRET = "la mer est calme ce matin"
HOME = re.compile(r"^https?://[^/]+/$")


def _check(page, mobile: bool) -> None:
    assert_accessible(page)
    if mobile:
        assert_no_horizontal_overflow(page)


def _flow(page, member: Member, *, mobile: bool) -> None:
    page.goto("/creer-mon-compte/")
    _check(page, mobile)
    page.get_by_label("Numéro de sécurité sociale").fill(member.nir)
    page.get_by_label("Date de naissance").fill(member.birth_date.strftime("%d/%m/%Y"))
    page.get_by_label("Numéro de série de votre carte Vitale").fill(member.vitale_serial or "")
    page.get_by_label("Les 7 derniers caractères de votre IBAN").fill((member.iban or "")[-7:])
    page.get_by_label("Par courriel (quelques minutes)").check()
    page.get_by_role("button", name="Recevoir mon code provisoire").click()
    page.wait_for_url("**/creer-mon-compte/demande-envoyee/")
    _check(page, mobile)

    code = provisional_code_in(last_message("identity_provisional_code", member))
    page.goto("/connexion/")
    _check(page, mobile)
    page.get_by_label("Numéro de sécurité sociale").fill(member.nir)
    page.get_by_label("Code secret", exact=True).fill(code)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/connexion/code-definitif/")
    _check(page, mobile)

    page.get_by_label("Nouveau code secret", exact=True).fill("password1234")
    page.get_by_label("Confirmez le nouveau code secret").fill("password1234")
    page.get_by_role("button", name="Enregistrer mon code secret").click()
    assert page.locator(".govuk-error-summary").is_visible()
    _check(page, mobile)
    page.get_by_label("Nouveau code secret", exact=True).fill(SECRET)
    page.get_by_label("Confirmez le nouveau code secret").fill(SECRET)
    page.get_by_role("button", name="Enregistrer mon code secret").click()
    page.wait_for_url(HOME)
    _check(page, mobile)

    page.goto("/mon-compte/securite/")
    _check(page, mobile)
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion/")
    _check(page, mobile)
    # The NIR is remembered, masked, on this device.
    assert member.nir[:5] in page.content()
    assert member.nir not in page.content()

    # A new device: no cookie at all.
    page.context.clear_cookies()
    page.goto("/connexion/")
    page.get_by_label("Numéro de sécurité sociale").fill(member.nir)
    page.get_by_label("Code secret", exact=True).fill(SECRET)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/connexion/code-de-securite/")
    _check(page, mobile)
    otp = otp_in(last_message("identity_login_otp", member))
    page.get_by_label("Code de sécurité").fill(otp)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(HOME)
    page.goto("/mon-compte/securite/")
    assert "Cet appareil" in page.content()
    _check(page, mobile)
    page.get_by_role("link", name="Activer une application d'authentification").click()
    page.wait_for_url("**/mon-compte/securite/application/")
    assert page.locator("svg.segno").count() == 1
    _check(page, mobile)


def test_account_flow_desktop(page):
    _flow(page, MemberFactory(), mobile=False)


def test_account_flow_phone(mobile_page):
    _flow(mobile_page, MemberFactory(), mobile=True)


def test_other_identity_pages_are_accessible(page):
    for path in ("/code-oublie/", "/ai-je-un-compte/"):
        page.goto(path)
        assert_accessible(page)
