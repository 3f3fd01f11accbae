"""Pages without a provider: the button, FranceConnect off, callback errors, state checks."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.hashers import make_password
from django.template.loader import render_to_string
from django.test import RequestFactory

from assure.core.models import AuditEvent
from assure.franceconnect.views import AUTH_KEY, ID_TOKEN_KEY, PENDING_KEY
from assure.identity.models import Account
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

STATE = "s" * 43


@pytest.fixture
def fc_on(settings):
    from assure.franceconnect.client import forget_cached_clients

    # An address nothing listens on: these tests never reach the provider.
    settings.FRANCECONNECT_ISSUER = "http://127.0.0.1:9/api/v2"
    settings.FRANCECONNECT_CLIENT_ID = "client"
    settings.FRANCECONNECT_CLIENT_SECRET = "secret"
    forget_cached_clients()
    yield
    forget_cached_clients()


def _button() -> str:
    request = RequestFactory().get("/connexion/")
    return render_to_string("franceconnect/button.html", request=request)


def test_no_button_and_no_pages_when_franceconnect_is_off(client, settings):
    settings.FRANCECONNECT_ISSUER = ""
    assert _button().strip() == ""
    assert client.post("/franceconnect/connexion/").status_code == 404


def test_the_button_with_its_link_and_or_when_on(fc_on):
    html = _button()
    assert "FranceConnect" in html
    assert 'href="https://franceconnect.gouv.fr/"' in html
    assert "Qu&#x27;est-ce que FranceConnect ?" in html or "Qu'est-ce que FranceConnect ?" in html
    assert ">ou<" in html
    assert 'action="/franceconnect/connexion/"' in html
    assert "style=" not in html
    assert "<script" not in html


def test_an_unreachable_provider_gives_a_neutral_message(client, fc_on):
    response = client.post("/franceconnect/connexion/", follow=True)
    assert response.redirect_chain[-1][0] == "/connexion/"
    assert "pas abouti" in response.content.decode()
    assert AuditEvent.objects.filter(action="franceconnect.unavailable").exists()


def _pending_auth(client) -> None:
    session = client.session
    session[AUTH_KEY] = {"state": STATE, "nonce": "n" * 43, "next": "/"}
    session.save()


@pytest.mark.parametrize("params", [{}, {"state": ""}, {"code": "c", "state": "other" * 9}])
def test_missing_or_wrong_state_is_a_400_without_token_call(client, fc_on, params):
    _pending_auth(client)
    response = client.get("/franceconnect/retour/", params)
    assert response.status_code == 400
    assert AuditEvent.objects.filter(action="franceconnect.state_invalid").exists()
    # The state was used up: the right one now fails too.
    assert client.get("/franceconnect/retour/", {"code": "c", "state": STATE}).status_code == 400


def test_no_login_started_is_a_400(client, fc_on):
    assert client.get("/franceconnect/retour/", {"code": "c", "state": STATE}).status_code == 400


@pytest.mark.parametrize(
    "error",
    [
        "access_denied",
        "invalid_request",
        "invalid_client",
        "server_error",
        "temporarily_unavailable",
        "other",
    ],
)
def test_each_callback_error_is_neutral_and_audited(client, fc_on, error):
    _pending_auth(client)
    response = client.get(
        "/franceconnect/retour/",
        {"error": error, "error_description": "Nom Prénom 1984", "state": STATE},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/connexion/"
    page = response.content.decode()
    assert "Nom Prénom" not in page
    assert error not in page
    reason = error if error != "other" else "unknown_error"
    assert AuditEvent.objects.filter(
        action="franceconnect.callback_error", data__reason=reason
    ).exists()


def test_the_link_page_needs_a_pending_franceconnect_login(client, fc_on):
    assert client.get("/franceconnect/rattacher/")["Location"] == "/connexion/"


def test_the_link_page_counts_failures_like_a_login(client, fc_on, settings):
    registered = MemberFactory()
    Account.objects.create(member=registered, secret_code_hash=make_password("Right-Code-2024!"))
    session = client.session
    session[PENDING_KEY] = {
        "issuer": "i",
        "sub": "s",
        "pivot": {},
        "id_token": "a.b.c",
        "next": "/",
        "at": time.time(),
    }
    session.save()
    locked = False
    for _ in range(settings.IDENTITY_LOCK_AFTER_FAILURES):
        page = client.post(
            "/franceconnect/rattacher/", {"nir": registered.nir, "secret_code": "wrong"}
        )
        if "bloquée" in page.content.decode():
            locked = True
            break
    assert locked
    # Once blocked, even the right code waits.
    page = client.post(
        "/franceconnect/rattacher/", {"nir": registered.nir, "secret_code": "Right-Code-2024!"}
    )
    assert page.status_code == 200
    assert ID_TOKEN_KEY not in client.session


def test_logout_without_franceconnect_session_just_logs_out(client, fc_on):
    response = client.post("/franceconnect/deconnexion/")
    assert response["Location"] == "/connexion/"


def test_logout_return_without_a_logout_started_is_a_400(client, fc_on):
    assert client.get("/franceconnect/deconnexion/retour/", {"state": STATE}).status_code == 400


def test_the_client_asks_authlib_for_fresh_keys_only_when_told(fc_on):
    from assure.franceconnect.client import client

    fc = client()
    assert fc is not None
    calls: list[bool] = []
    fc.app.server_metadata.update({"issuer": "x", "_loaded_at": 1.0})
    fc.app.fetch_jwk_set = lambda force=False: calls.append(force) or {"keys": []}
    fc._keys(False)
    fc._keys(True)
    assert calls == [False, True]
