"""An advisor handles a phone call end to end in a real browser: sign in with the authenticator
code → find the caller by NIR → give the reason → check identity → send a code by post → the
letter is in the outbox; axe-core on every page."""

from __future__ import annotations

import pytest

from assure.backoffice import roles
from assure.backoffice.services import consultation_record, staff_actor
from assure.core.models import AuditEvent
from assure.notifications.models import OutboxMessage
from tests.backoffice.helpers import PASSWORD, staff_user, totp_now
from tests.e2e.conftest import assert_accessible
from tests.identity.helpers import SECRET, active_account, last_message, otp_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_advisor_handles_a_phone_call(page):
    advisor = staff_user()
    member = active_account().member

    page.goto("/backoffice/membres/")
    page.wait_for_url("**/backoffice/connexion/**")
    assert_accessible(page)
    page.get_by_label("Identifiant").fill(advisor.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/backoffice/connexion/code/")
    assert_accessible(page)
    page.get_by_label("Code de l'application d'authentification").fill(totp_now(advisor))
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/backoffice/membres/")
    assert_accessible(page)

    spaced = f"{member.nir[:1]} {member.nir[1:3]} {member.nir[3:5]} {member.nir[5:]}"
    page.get_by_label("Numéro de sécurité sociale").fill(spaced)
    page.get_by_role("button", name="Rechercher").click()
    assert_accessible(page)
    page.get_by_role("link", name=f"{member.family_name} {member.given_names}").click()

    page.wait_for_url(f"**/backoffice/membres/{member.pk}/")
    assert_accessible(page)
    page.get_by_label("Appel téléphonique").check()
    page.get_by_role("button", name="Ouvrir le dossier").click()
    page.wait_for_selector("#account-status")
    assert_accessible(page)

    page.get_by_role("link", name="Vérifier l'identité de l'appelant").click()
    page.wait_for_url("**/verification/")
    assert_accessible(page)
    page.get_by_label("Date de naissance donnée par l'appelant").fill(
        member.birth_date.strftime("%d/%m/%Y")
    )
    page.get_by_label("Code postal de l'adresse").fill(member.postal_code)
    page.get_by_label("Les 4 derniers caractères de l'IBAN").fill(member.iban[-4:])
    page.get_by_role("button", name="Enregistrer la vérification").click()
    page.wait_for_url(f"**/backoffice/membres/{member.pk}/")
    assert "Vérification réussie" in page.content()
    assert_accessible(page)

    page.get_by_role("link", name="Envoyer un code provisoire").click()
    page.wait_for_url("**/code/")
    assert_accessible(page)
    page.get_by_label("Par courrier, à l'adresse connue de la caisse").check()
    page.get_by_role("button", name="Envoyer le code").click()
    page.wait_for_url(f"**/backoffice/membres/{member.pk}/")
    assert "part par courrier" in page.content()
    assert_accessible(page)

    letter = OutboxMessage.objects.get(template="identity_provisional_code", member_id=member.pk)
    assert letter.channel == OutboxMessage.Channel.LETTER
    assert member.postal_code in str(letter.recipient)
    actions = set(AuditEvent.objects.filter(member_id=member.pk).values_list("action", flat=True))
    assert {
        "backoffice.member_viewed",
        "backoffice.identity_check_passed",
        "identity.provisional_code_issued",
    } <= actions


def test_the_member_sees_the_consultation(page):
    advisor = staff_user()
    account = active_account()

    consultation_record(
        member=account.member, reason="Appel téléphonique", actor=staff_actor(advisor)
    )

    page.goto("/connexion/")
    page.get_by_label("Numéro de sécurité sociale").fill(account.member.nir)
    page.get_by_label("Code secret", exact=True).fill(SECRET)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/connexion/code-de-securite/")

    page.get_by_label("Code de sécurité").fill(
        otp_in(last_message("identity_login_otp", account.member))
    )
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/")
    page.goto("/mon-compte/acces/")
    assert "Claire Conseil" in page.content()
    assert "Appel téléphonique" in page.content()
    assert_accessible(page)


def _sign_in(page, user) -> None:
    page.goto("/backoffice/connexion/")
    page.get_by_label("Identifiant").fill(user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/backoffice/connexion/code/")
    page.get_by_label("Code de l'application d'authentification").fill(totp_now(user))
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/backoffice/")


def test_supervisor_and_administrator_pages_are_accessible(page, settings, tmp_path):
    settings.CARDS_EXPORT_DIR = tmp_path
    _sign_in(page, staff_user("sophie", role=roles.SUPERVISOR))
    for path in ("/backoffice/", "/backoffice/tableau-de-bord/", "/backoffice/cartes/"):
        page.goto(path)
        assert_accessible(page)
    page.goto("/backoffice/journal/?action=backoffice.")
    assert "backoffice.staff_signed_in" in page.content()
    assert_accessible(page)
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/backoffice/connexion/")

    _sign_in(page, staff_user("root", role=roles.ADMIN))
    page.goto("/backoffice/personnel/")
    assert_accessible(page)
    page.get_by_label("Identifiant").fill("nadia")
    page.get_by_label("Conseiller").check()
    page.get_by_role("button", name="Créer le compte").click()
    link = page.locator("#enrolment-link").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Se déconnecter").click()
    page.goto(link)
    assert page.locator("svg.segno").count() == 1
    assert_accessible(page)
