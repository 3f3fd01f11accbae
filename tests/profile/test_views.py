"""The profile pages: each change through its form, the e-mail link page, the bank account's
second factor on the spot, history and owner scoping."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from assure.identity.middleware import SESSION_KEY
from assure.identity.models import MemberSession
from assure.members.models import ProfileChange
from tests.identity.helpers import otp_in
from tests.members.factories import MemberFactory
from tests.profile.conftest import ANY_URL, messages_for

pytestmark = pytest.mark.django_db

IBAN = "FR1420041010050500013M02606"


def signed_in(account) -> Client:
    client = Client()
    web = MemberSession.objects.create(account=account, kind=MemberSession.Kind.WEB)
    session = client.session
    session[SESSION_KEY] = web.pk
    session.save()
    return client


@pytest.fixture
def client_in(account) -> Client:
    return signed_in(account)


def test_pages_need_a_login():
    for path in ["/mon-profil/", "/mon-profil/adresse/", "/mon-profil/compte-bancaire/"]:
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/")


def test_overview_shows_details_masked_and_beneficiaries(client_in, member):
    response = client_in.get("/mon-profil/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "12 rue des Lilas" in html
    assert "FR76 •••• •••• •••• •••• •••• 189" in html
    assert "FR7630006000011234567890189" not in html
    assert member.nir not in html
    assert "Léa MARTIN" in html
    assert 'href="/mon-profil/historique/"' in html


def test_address_change_through_the_form(client_in, member):
    response = client_in.post(
        "/mon-profil/adresse/",
        {
            "line1": "5 avenue Foch",
            "line2": "",
            "postal_code": "69006",
            "city": "Lyon",
            "country": "FR",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.address_line1, member.postal_code) == ("5 avenue Foch", "69006")
    page = client_in.get("/mon-profil/historique/").content.decode()
    assert "5 avenue Foch, 69006 Lyon" in page


def test_address_errors_keep_what_was_typed(client_in, member):
    response = client_in.post(
        "/mon-profil/adresse/",
        {"line1": "x" * 39, "postal_code": "123", "city": "Lyon", "country": "FR"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in html
    assert "38 caractères au plus" in html
    assert "Un code postal français a 5 chiffres" in html
    assert 'value="123"' in html
    member.refresh_from_db()
    assert member.postal_code == "75014"


def test_phone_change_through_the_form(client_in, member):
    assert client_in.post("/mon-profil/telephone/", {"phone": "07 11 22 33 44"}).status_code == 302
    member.refresh_from_db()
    assert member.phone == "0711223344"


def test_email_link_page_confirms_and_never_logs_in(client_in, member):
    response = client_in.post("/mon-profil/courriel/", {"email": "zoe.new@example.net"})
    assert response["Location"] == "/mon-profil/courriel/envoye/"
    (message,) = messages_for(member, "profile_email_confirm")
    url = next(w for w in message.body.split() if ANY_URL.search(w))
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]

    stranger = Client()  # the link is opened in another browser (a phone's mail app)
    page = stranger.get(path)
    assert page.status_code == 200
    assert "zoe.new@example.net" in page.content.decode()
    member.refresh_from_db()
    assert member.email == "zoe@example.org"  # a GET (a mail filter opening links) changes nothing
    done = stranger.post(path)
    assert done.status_code == 200
    member.refresh_from_db()
    assert member.email == "zoe.new@example.net"
    # Nobody is signed in by the link: no member session, and member pages still ask for a login.
    assert SESSION_KEY not in stranger.session
    assert stranger.get("/mon-profil/").status_code == 302
    assert 'name="code"' not in done.content.decode()
    assert 'name="secret_code"' not in done.content.decode()
    assert stranger.post(path).status_code == 404  # single use
    (notice,) = messages_for(member, "profile_email_changed")
    assert notice.recipient == {"email": "zoe@example.org"}


def test_a_made_up_link_is_not_valid(client):
    assert client.get("/mon-profil/courriel/confirmer/" + "ab" * 32 + "/").status_code == 404
    assert client.post("/mon-profil/courriel/confirmer/nope/").status_code == 404


def _step_up(client_in, member):
    page = client_in.get("/mon-profil/compte-bancaire/")
    assert page["Location"] == "/mon-profil/compte-bancaire/confirmation/"
    client_in.post("/mon-profil/compte-bancaire/confirmation/", {"start": "1"})
    code = otp_in(messages_for(member, "profile_step_up_code")[-1])
    response = client_in.post("/mon-profil/compte-bancaire/confirmation/", {"code": code})
    assert response["Location"] == "/mon-profil/compte-bancaire/"


BANK = {"iban": "FR14 2004 1010 0505 0001 3M02 606", "bic": "PSSTFRPPLIL", "holder": "Zoé Martin"}


def test_bank_account_asks_the_code_on_the_spot_then_changes(client_in, member):
    _step_up(client_in, member)
    assert client_in.get("/mon-profil/compte-bancaire/").status_code == 200
    response = client_in.post("/mon-profil/compte-bancaire/", BANK)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.iban == IBAN
    assert ProfileChange.objects.get(member=member).status == "pending_fund"
    # Used once: the next change asks again.
    assert client_in.get("/mon-profil/compte-bancaire/").status_code == 302


def test_wrong_code_is_refused(client_in, member):
    client_in.post("/mon-profil/compte-bancaire/confirmation/", {"start": "1"})
    response = client_in.post("/mon-profil/compte-bancaire/confirmation/", {"code": "000000x"})
    assert response.status_code == 200
    assert "Le code est incorrect" in response.content.decode()
    assert client_in.get("/mon-profil/compte-bancaire/").status_code == 302


def test_bank_account_step_up_expires_after_5_minutes(client_in, member, clock):
    _step_up(client_in, member)
    clock.shift(dt.timedelta(minutes=5, seconds=1))
    response = client_in.post("/mon-profil/compte-bancaire/", BANK)
    assert response.status_code == 400
    html = response.content.decode()
    assert "plus de 5 minutes" in html
    assert 'value="Zoé Martin"' in html  # what was typed stays
    member.refresh_from_db()
    assert member.iban == "FR7630006000011234567890189"


def test_invalid_iban_is_shown_next_to_the_field(client_in, member):
    _step_up(client_in, member)
    response = client_in.post(
        "/mon-profil/compte-bancaire/", BANK | {"iban": "FR1420041010050500013M02607"}
    )
    assert "Cet IBAN n" in response.content.decode()
    member.refresh_from_db()
    assert member.iban == "FR7630006000011234567890189"


def test_history_shows_only_the_members_own_changes(client_in, member):
    other = MemberFactory()
    ProfileChange.objects.create(
        member=other,
        kind="phone",
        status="applied",
        values={"phone": "0799999999"},
        actor_kind="member",
        created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    client_in.post("/mon-profil/telephone/", {"phone": "0711223344"})
    html = client_in.get("/mon-profil/historique/").content.decode()
    assert "0711223344" in html
    assert "0799999999" not in html


def test_pages_in_english(client_in):
    response = client_in.get("/mon-profil/", HTTP_ACCEPT_LANGUAGE="en")
    assert "My profile" in response.content.decode()


def test_too_many_codes_asked_for_is_said_on_the_page(client_in, member):
    for _ in range(5):
        client_in.post("/mon-profil/compte-bancaire/confirmation/", {"start": "1"})
    response = client_in.post("/mon-profil/compte-bancaire/confirmation/", {"start": "1"})
    assert response.status_code == 200
    assert "govuk-error-summary" in response.content.decode()
    assert len(messages_for(member, "profile_step_up_code")) == 5
