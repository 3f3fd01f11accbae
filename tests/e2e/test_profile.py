"""Mon profil in a real browser: the address, the bank account with its code, the e-mail link."""

from __future__ import annotations

import pytest

from assure.identity.services import member_actor
from assure.members import changes
from assure.notifications.models import OutboxMessage
from tests.e2e.conftest import assert_accessible, assert_no_horizontal_overflow
from tests.e2e.test_documents import sign_in
from tests.identity.helpers import otp_in
from tests.members.factories import BeneficiaryFactory, MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_change_the_postal_address(viewport, request, live_server):
    page = request.getfixturevalue(viewport)
    member = MemberFactory(given_names="Zoé", birth_name="MARTIN")
    BeneficiaryFactory(member=member, given_names="Léa", birth_name="MARTIN")
    sign_in(page, live_server, member)

    def check() -> None:
        assert_accessible(page)
        if viewport == "mobile_page":
            assert_no_horizontal_overflow(page)

    page.goto("/mon-profil/")
    assert page.locator("h1").inner_text() == "Mon profil"
    assert page.get_by_text("FR76 •••• •••• •••• •••• •••• 189").is_visible()
    check()
    page.get_by_role("link", name="Modifier l'adresse postale").click()
    assert page.locator("h1").inner_text() == "Modifier mon adresse postale"
    check()

    # A mistake first: the error summary links to the field, and what was typed stays.
    page.get_by_label("Numéro et voie").fill("5 avenue du Maréchal de Lattre de Tassigny")
    page.get_by_label("Code postal").fill("6900")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    assert page.locator(".govuk-error-summary").is_visible()
    assert page.get_by_label("Code postal").input_value() == "6900"
    check()

    page.get_by_label("Numéro et voie").fill("5 av du Mal de Lattre de Tassigny")
    page.get_by_label("Complément d'adresse (facultatif)").fill("Bâtiment B")
    page.get_by_label("Code postal").fill("69006")
    page.get_by_label("Commune").fill("Lyon")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    assert page.get_by_text("Votre adresse postale a été modifiée.").is_visible()
    assert page.get_by_text("69006 Lyon").is_visible()
    check()

    page.get_by_role("link", name="Voir l'historique de mes changements").click()
    assert page.locator("h1").inner_text() == "Historique de mes changements"
    assert page.get_by_text(
        "5 av du Mal de Lattre de Tassigny, Bâtiment B, 69006 Lyon"
    ).is_visible()
    check()


def test_change_the_bank_account_with_the_code_asked_on_the_spot(mobile_page, live_server):
    page = mobile_page
    member = MemberFactory(given_names="Zoé", birth_name="MARTIN", email="zoe@example.org")
    sign_in(page, live_server, member)
    page.goto("/mon-profil/compte-bancaire/")
    assert page.locator("h1").inner_text() == "Confirmez votre identité"
    assert_accessible(page)
    page.get_by_role("button", name="Recevoir un code par courriel").click()
    code = otp_in(OutboxMessage.objects.filter(template="profile_step_up_code").latest("id"))
    page.get_by_label("Code de sécurité").fill(code)
    assert_accessible(page)
    page.get_by_role("button", name="Continuer").click()
    assert page.locator("h1").inner_text() == "Modifier mon compte bancaire"
    assert_accessible(page)
    page.get_by_label("IBAN").fill("FR14 2004 1010 0505 0001 3M02 606")
    page.get_by_label("BIC").fill("PSSTFRPPLIL")
    page.get_by_label("Titulaire du compte").fill("Zoé Martin")
    page.get_by_role("button", name="Enregistrer le compte").click()
    assert page.get_by_text("FR14 •••• •••• •••• •••• •••• 606").is_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)


def test_the_email_link_page_confirms_without_signing_in(page, live_server):
    member = MemberFactory(email="zoe@example.org")
    changes.member_email_change_request(
        member=member, email="zoe.new@example.net", actor=member_actor(member)
    )
    body = OutboxMessage.objects.get(template="profile_email_confirm").body
    path = next(w for w in body.split() if "://" in w).split("/", 3)[3]
    page.goto("/" + path)
    assert page.locator("h1").inner_text() == "Confirmer votre nouvelle adresse électronique"
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer cette adresse").click()
    assert page.locator("h1").inner_text() == "Votre adresse électronique est confirmée"
    assert_accessible(page)
    member.refresh_from_db()
    assert member.email == "zoe.new@example.net"
    page.goto("/mon-profil/")
    assert "/connexion/" in page.url
