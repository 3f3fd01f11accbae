"""Mes attestations in a real browser: ask for a certificate, download it, check it publicly."""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings

from assure.identity.middleware import SESSION_KEY
from assure.identity.models import Account, MemberSession
from tests.e2e.conftest import assert_accessible, assert_no_horizontal_overflow
from tests.members.factories import BeneficiaryFactory, MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, live_server: Any, member) -> None:
    account = Account.objects.create(member=member, secret_code_hash="x", must_change_code=False)
    web = MemberSession.objects.create(account=account, kind=MemberSession.Kind.WEB)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = web.pk
    store.save()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url}]
    )


def _member():
    member = MemberFactory(
        given_names="Zoé",
        birth_name="N'DIAYE",
        exemptions=[{"kind": "ald", "start": "2019-04-01", "end": None}],
    )
    BeneficiaryFactory(member=member, given_names="Léo", birth_date=dt.date(2016, 7, 11))
    return member


def test_ask_for_a_certificate_download_it_and_verify_it(page, live_server, tmp_path):
    sign_in(page, live_server, _member())
    page.goto("/mes-attestations/")
    assert page.locator("h1").inner_text() == "Mes attestations"
    assert_accessible(page)
    page.get_by_role("link", name="Attestation de droits à l'assurance maladie").click()
    assert_accessible(page)
    page.get_by_label("Léo DUPONT").check()
    page.get_by_role("button", name="Obtenir l'attestation").click()
    assert page.get_by_text("Votre attestation est prête").is_visible()
    assert_accessible(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger").first.click()
    download = info.value
    assert download.suggested_filename.startswith("attestation-entitlement-")
    saved = tmp_path / "attestation.pdf"
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")

    from assure.documents.models import Certificate

    certificate = Certificate.objects.get()
    anonymous = page.context.browser.new_context(
        base_url=live_server.url, bypass_csp=True, locale="fr-FR"
    )
    try:
        public = anonymous.new_page()
        public.goto(f"/verifier/{certificate.display_reference}/")
        assert public.get_by_text("Document valide").is_visible()
        assert public.get_by_text("Z. N. 1985").is_visible()
        assert_accessible(public)
        public.goto("/verifier/")
        assert_accessible(public)
        public.get_by_label("Référence de l'attestation").fill(certificate.display_reference)
        public.get_by_role("button", name="Vérifier").click()
        assert public.get_by_text("Document valide").is_visible()
        public.goto("/verifier/0000-0000-0000-0000-0000/")
        assert public.get_by_text("Ce document n'est pas valide.").is_visible()
        assert_accessible(public)
    finally:
        anonymous.close()


def test_certificate_pages_on_a_phone(mobile_page, live_server):
    sign_in(mobile_page, live_server, _member())
    mobile_page.goto("/mes-attestations/nouvelle/indemnites/")
    mobile_page.get_by_label("Paiements reçus depuis le").fill("01/11/2026")
    mobile_page.get_by_label("Paiements reçus jusqu'au").fill("01/10/2026")
    mobile_page.get_by_role("button", name="Obtenir l'attestation").click()
    assert mobile_page.locator(".govuk-error-summary").is_visible()
    assert_no_horizontal_overflow(mobile_page)
    assert_accessible(mobile_page)
    mobile_page.goto("/mes-attestations/")
    assert_no_horizontal_overflow(mobile_page)
    assert_accessible(mobile_page)
