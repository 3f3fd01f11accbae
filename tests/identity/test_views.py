"""The identity pages: flows, CSRF on every form, session rotation, idle and absolute expiry."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from assure.identity.middleware import SESSION_KEY
from assure.identity.models import MemberSession
from tests.identity.helpers import SECRET, active_account, last_message, otp_in, provisional_code_in
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
NEW_SECRET = "la mer est calme ce matin"


def _login(client, nir, code):
    return client.post("/connexion/", {"nir": nir, "secret_code": code, "remember_nir": "on"})


def _web_login(client, account):
    response = _login(client, account.member.nir, SECRET)
    assert response.status_code == 302
    assert response["Location"] == "/connexion/code-de-securite/"
    otp = otp_in(last_message("identity_login_otp", account.member))
    response = client.post("/connexion/code-de-securite/", {"code": otp})
    assert response.status_code == 302
    return response


def test_signup_first_login_definitive_code_and_security_page():
    client = Client()
    member = MemberFactory()
    response = client.post(
        "/creer-mon-compte/",
        {
            "nir": member.nir,
            "birth_date": member.birth_date.strftime("%d/%m/%Y"),
            "vitale_serial": member.vitale_serial,
            "iban_end": member.iban[-7:],
            "email": "",
            "channel": "email",
        },
    )
    assert response["Location"] == "/creer-mon-compte/demande-envoyee/"
    plain = provisional_code_in(last_message("identity_provisional_code", member))
    response = _login(client, member.nir, plain)
    assert response["Location"] == "/connexion/code-definitif/"
    page = client.get("/connexion/code-definitif/")
    assert "12 à 128 caractères" in page.content.decode()
    weak = client.post(
        "/connexion/code-definitif/",
        {"new_secret_code": "password1234", "confirm": "password1234"},
    )
    assert weak.status_code == 200
    assert "mots de passe dérobés" in weak.content.decode()
    done = client.post(
        "/connexion/code-definitif/", {"new_secret_code": NEW_SECRET, "confirm": NEW_SECRET}
    )
    assert done["Location"] == "/"
    security = client.get("/mon-compte/securite/")
    assert security.status_code == 200
    assert "Cet appareil" in security.content.decode()


def test_session_key_changes_at_login():
    client = Client()
    account = active_account()
    client.get("/connexion/")
    client.session.save()
    before = client.session.session_key
    _web_login(client, account)
    assert client.session.session_key != before
    assert client.session[SESSION_KEY]


def test_known_device_logs_in_directly_and_nir_is_remembered_masked():
    client = Client()
    account = active_account()
    _web_login(client, account)
    client.post("/deconnexion/")
    page = client.get("/connexion/").content.decode()
    assert account.member.nir not in page
    assert account.member.nir[:5] in page
    assert "Ce n&#x27;est pas vous" in page or "Ce n'est pas vous" in page
    response = client.post("/connexion/", {"secret_code": SECRET})
    assert response["Location"] == "/"
    client.post("/connexion/oublier-mon-numero/")
    assert account.member.nir[:5] not in client.get("/connexion/").content.decode()


def test_wrong_code_and_unknown_nir_render_the_same_page():
    account = active_account()
    stranger = MemberFactory()
    one = _login(Client(), account.member.nir, "wrong code here")
    two = _login(Client(), stranger.nir, "wrong code here")
    assert one.status_code == two.status_code == 200
    strip = lambda r: r.content.decode().replace(account.member.nir, "X").replace(stranger.nir, "X")  # noqa: E731
    import re

    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", strip(one)) == token.sub("", strip(two))


def test_lock_shows_its_end_time():
    client = Client()
    account = active_account()
    for _ in range(5):
        response = _login(client, account.member.nir, "wrong code here")
    assert "Vous pourrez réessayer à partir du" in response.content.decode()


def test_logout_ends_the_session_row():
    client = Client()
    account = active_account()
    _web_login(client, account)
    client.post("/deconnexion/")
    assert MemberSession.objects.get(account=account).ended_at is not None
    assert client.get("/mon-compte/securite/").status_code == 302


def test_idle_30_minutes_and_absolute_12_hours():
    client = Client()
    account = active_account()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _web_login(client, account)
    with time_machine.travel(start + dt.timedelta(minutes=29), tick=False):
        assert client.get("/mon-compte/securite/").status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=58), tick=False):
        assert client.get("/mon-compte/securite/").status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=89), tick=False):
        response = client.get("/mon-compte/securite/")
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/")
    assert MemberSession.objects.get(account=account).end_reason == "idle"

    client = Client()
    with time_machine.travel(start, tick=False):
        _web_login(client, account)
    for minutes in range(25, 12 * 60, 25):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            client.get("/mon-compte/securite/")
    with time_machine.travel(start + dt.timedelta(hours=12, minutes=1), tick=False):
        assert client.get("/mon-compte/securite/").status_code == 302


def test_member_ends_another_session_and_it_stops_working():
    laptop, phone = Client(), Client()
    account = active_account()
    _web_login(laptop, account)
    _web_login(phone, account)
    phone_session = MemberSession.objects.filter(account=account).order_by("-id").first()
    response = laptop.post(f"/mon-compte/securite/sessions/{phone_session.pk}/fermer/")
    assert response.status_code == 302
    assert phone.get("/mon-compte/securite/").status_code == 302
    assert laptop.get("/mon-compte/securite/").status_code == 200


def test_other_members_session_is_404():
    client = Client()
    account = active_account()
    other = MemberSession.objects.create(account=active_account(), kind="web")
    _web_login(client, account)
    assert client.post(f"/mon-compte/securite/sessions/{other.pk}/fermer/").status_code == 404
    assert MemberSession.objects.get(pk=other.pk).ended_at is None


def test_totp_enrolment_shows_inline_svg_and_recovery_codes():
    import re

    import pyotp

    client = Client()
    account = active_account()
    _web_login(client, account)
    page = client.get("/mon-compte/securite/application/").content.decode()
    assert "<svg" in page
    assert "<script" not in page.split("<body", 1)[1].split("</main>")[0]
    secret = client.session["identity_totp_secret"]
    done = client.post("/mon-compte/securite/application/", {"code": pyotp.TOTP(secret).now()})
    assert len(re.findall(r"<code>[0-9A-Z]{5}-[0-9A-Z]{5}</code>", done.content.decode())) == 10
    account.refresh_from_db()
    assert account.totp_enabled


def test_terminate_page():
    client = Client()
    account = active_account()
    _web_login(client, account)
    wrong = client.post("/mon-compte/securite/cloturer/", {"secret_code": "not the code"})
    assert "incorrect" in wrong.content.decode()
    done = client.post("/mon-compte/securite/cloturer/", {"secret_code": SECRET})
    assert "clôturé" in done.content.decode()
    account.refresh_from_db()
    assert account.status == "terminated"
    assert client.get("/mon-compte/securite/").status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        "/connexion/",
        "/connexion/oublier-mon-numero/",
        "/connexion/code-definitif/",
        "/connexion/code-de-securite/",
        "/connexion/code-de-secours/",
        "/deconnexion/",
        "/creer-mon-compte/",
        "/code-oublie/",
        "/ai-je-un-compte/",
        "/mon-compte/securite/sessions/1/fermer/",
        "/mon-compte/securite/code-secret/",
        "/mon-compte/securite/application/",
        "/mon-compte/securite/application/desactiver/",
        "/mon-compte/securite/cloturer/",
    ],
)
def test_csrf_enforced_on_every_form(path):
    client = Client(enforce_csrf_checks=True)
    account = active_account()
    # Signed in through a client that skips the check, then the same cookies without a token.
    helper = Client()
    _web_login(helper, account)
    client.cookies = helper.cookies
    response = client.post(path, {"secret_code": SECRET, "nir": account.member.nir})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path", ["/connexion/", "/creer-mon-compte/", "/code-oublie/", "/ai-je-un-compte/"]
)
def test_pages_render_with_a_csrf_token(path):
    page = Client().get(path)
    assert page.status_code == 200
    assert "csrfmiddlewaretoken" in page.content.decode()


def test_login_page_in_english():
    from django.utils import translation

    page = Client().get("/connexion/", HTTP_ACCEPT_LANGUAGE="en")
    translation.activate("fr")
    assert "Sign in to my account" in page.content.decode()


def test_every_identity_notice_renders_in_both_languages_without_links():
    import datetime as dt

    from assure.notifications.rendering import email_render, letter_render

    context = {
        "given_names": "Camille",
        "family_name": "DUPONT",
        "code": "ABCD1234",
        "expires_at": timezone.now(),
        "at": timezone.now(),
        "locked_until": timezone.now() + dt.timedelta(minutes=15),
        "minutes": 10,
        "device": "Firefox, Linux",
        "has_account": True,
    }
    names = [
        "identity_provisional_code",
        "identity_already_registered",
        "identity_account_check",
        "identity_new_device",
        "identity_code_changed",
        "identity_terminated",
        "identity_locked",
    ]
    for language in ("fr", "en"):
        for name in [*names, "identity_login_otp"]:
            rendered = email_render(template=name, context=context, language=language)
            assert "http" not in rendered.body.split("-- \n")[0]
            assert "{" not in rendered.body
        for name in names:
            rendered = letter_render(template=name, context=context, language=language)
            assert rendered.subject
            assert "http" not in rendered.body
    english = email_render(template="identity_locked", context=context, language="en")
    assert english.subject == "Signing in to your account is blocked for a while"


def test_login_required_comes_back_to_the_page_asked_and_never_elsewhere():
    client = Client()
    account = active_account()
    response = client.get("/mon-compte/securite/")
    assert response["Location"] == "/connexion/?suite=%2Fmon-compte%2Fsecurite%2F"
    client.get(response["Location"])
    assert _web_login(client, account)["Location"] == "/mon-compte/securite/"

    other = Client()
    other.get("/connexion/?suite=https://evil.example/")
    assert _web_login(other, account)["Location"] == "/"
