"""FranceConnect in a real browser, through the real OpenID provider of tests/franceconnect/.

First login that links, first login that creates the account, an ambiguous identity that asks for
NIR + secret code once, a cancel at the provider, and the logout of both sessions; axe-core on
every page of ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from assure.franceconnect.models import FranceConnectLink
from assure.identity.models import Account
from tests.e2e.conftest import assert_accessible, assert_no_horizontal_overflow
from tests.franceconnect.people import SECRET, jean, marie, paul, with_account
from tests.franceconnect.provider import Provider, configure, start_provider, stop_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
HOME = re.compile(r"^https?://[^/]+/$")


@pytest.fixture(scope="module")
def fc_live(live_server) -> Iterator[Provider]:
    provider = start_provider(live_server.url)
    yield provider
    stop_provider(provider)


@pytest.fixture
def fc(settings, fc_live) -> Provider:
    configure(settings, fc_live)
    return fc_live


def _franceconnect_as(page, identity: str, *, mobile: bool = False) -> None:
    """From our login page: the button, then the provider's page for choosing a test identity."""
    page.goto("/connexion/")
    assert page.get_by_role("link", name=re.compile("Qu.est-ce que FranceConnect")).is_visible()
    assert_accessible(page)
    if mobile:
        assert_no_horizontal_overflow(page)
    page.get_by_role("button", name=re.compile("S.identifier avec FranceConnect")).click()
    page.wait_for_url("**/interaction/**")
    page.get_by_role("button", name=identity, exact=True).click()


def test_first_login_links_the_account(page, fc):
    account = with_account(marie())
    _franceconnect_as(page, "marie")
    page.wait_for_url(HOME)
    assert_accessible(page)
    assert FranceConnectLink.objects.filter(account=account).count() == 1
    page.goto("/mon-compte/securite/franceconnect/")
    assert page.locator("h1").inner_text() == "FranceConnect et mon compte"
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("Supprimer le lien")).click()
    page.wait_for_url("**/mon-compte/securite/franceconnect/")
    assert "Le lien avec FranceConnect est supprimé." in page.content()
    assert not FranceConnectLink.objects.exists()
    assert_accessible(page)


def test_first_login_creates_the_account_and_offers_a_secret_code(mobile_page, fc):
    page = mobile_page
    member = jean()
    _franceconnect_as(page, "jean", mobile=True)
    page.wait_for_url("**/franceconnect/code-secret/")
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    assert Account.objects.get(member=member).secret_code_hash == ""
    page.get_by_label("Nouveau code secret", exact=True).fill(SECRET)
    page.get_by_label("Confirmez le nouveau code secret").fill(SECRET)
    page.get_by_role("button", name="Enregistrer mon code secret").click()
    page.wait_for_url(HOME)
    assert Account.objects.get(member=member).has_definitive_code


def test_ambiguous_identity_asks_nir_and_code_once(page, fc):
    first = paul()
    paul()
    account = with_account(first)
    _franceconnect_as(page, "paul")
    page.wait_for_url("**/franceconnect/rattacher/")
    assert_accessible(page)
    page.get_by_label("Numéro de sécurité sociale").fill(first.nir)
    page.get_by_label("Code secret").fill("not the code")
    page.get_by_role("button", name="Relier mon compte").click()
    assert page.locator(".govuk-error-summary").is_visible()
    assert_accessible(page)
    page.get_by_label("Numéro de sécurité sociale").fill(first.nir)
    page.get_by_label("Code secret").fill(SECRET)
    page.get_by_role("button", name="Relier mon compte").click()
    page.wait_for_url(HOME)
    assert FranceConnectLink.objects.get().account == account


def test_cancel_at_franceconnect_comes_back_to_the_login_page(page, fc):
    page.goto("/connexion/")
    page.get_by_role("button", name=re.compile("S.identifier avec FranceConnect")).click()
    page.wait_for_url("**/interaction/**")
    page.get_by_role("button", name="Annuler").click()
    page.wait_for_url("**/connexion/")
    assert "La connexion avec FranceConnect a été annulée." in page.content()
    assert_accessible(page)


def test_logout_ends_both_sessions(page, fc):
    with_account(marie())
    _franceconnect_as(page, "marie")
    page.wait_for_url(HOME)
    page.goto("/mon-compte/securite/franceconnect/")
    page.get_by_role("button", name="Se déconnecter de mon compte et de FranceConnect").click()
    page.wait_for_url("**/connexion/")
    assert "Vous êtes déconnecté de votre compte et de FranceConnect." in page.content()
    assert_accessible(page)
    # Our session is over...
    page.goto("/mon-compte/securite/franceconnect/")
    page.wait_for_url("**/connexion/?suite=*")
    # ... and FranceConnect's: it asks again who the person is.
    page.get_by_role("button", name=re.compile("S.identifier avec FranceConnect")).click()
    page.wait_for_url("**/interaction/**")


def test_the_sign_up_page_shows_the_button_too(page, fc):
    page.goto("/creer-mon-compte/")
    assert page.get_by_role(
        "button", name=re.compile("S.identifier avec FranceConnect")
    ).is_visible()
    assert page.get_by_text("ou", exact=True).is_visible()
    assert_accessible(page)
