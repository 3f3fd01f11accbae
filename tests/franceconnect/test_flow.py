"""The whole relying party against the real OpenID provider (oidc-provider, set up like
FranceConnect), driven through Django's test client; the browser version is in tests/e2e/."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from assure.core.models import AuditEvent
from assure.franceconnect.models import FranceConnectLink
from assure.franceconnect.views import ID_TOKEN_KEY
from assure.identity.middleware import SESSION_KEY
from assure.identity.models import Account, MemberSession
from tests.franceconnect.people import SECRET, jean, marie, paul, with_account
from tests.franceconnect.provider import CLIENT_ID, configure

pytestmark = pytest.mark.django_db


@pytest.fixture
def fc(settings, fc_provider_for_testserver):
    configure(settings, fc_provider_for_testserver)
    return fc_provider_for_testserver


def through_provider(
    client, fc, identity: str, *, cancel: bool = False, start_data: dict | None = None
) -> tuple[str, dict]:
    """Starts the login in Django, plays the person at the provider, returns the callback."""
    start = client.post("/franceconnect/connexion/", start_data or {})
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(f"{fc.issuer}/authorize?")
    browser = requests.Session()
    response = browser.get(authorize, allow_redirects=True, timeout=10)
    assert response.status_code == 200, response.text
    interaction = urlsplit(response.url).path
    action = f"{interaction}/abort" if cancel else f"{interaction}/login"
    response = browser.post(
        f"{fc.issuer}{action}",
        data={} if cancel else {"identity": identity},
        allow_redirects=False,
        timeout=10,
    )
    # Follow the provider's own redirects until it sends the person back to us.
    while response.is_redirect:
        location = response.headers["Location"]
        if location.startswith(fc.redirect_uri):
            break
        response = browser.get(
            requests.compat.urljoin(response.url, location), allow_redirects=False, timeout=10
        )
    else:
        pytest.fail(f"no redirect back: {response.status_code} {response.text[:500]}")
    parts = urlsplit(location)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_authorization_request_has_exactly_franceconnect_s_parameters(client, fc):
    response = client.post("/franceconnect/connexion/")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert set(query) == {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "acr_values",
        "state",
        "nonce",
    }
    assert query["scope"] == ["openid identite_pivot email preferred_username"]
    assert query["acr_values"] == ["eidas1"]
    assert query["client_id"] == [CLIENT_ID]
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32
    assert query["state"] != query["nonce"]
    assert "code_challenge" not in query


def test_the_test_provider_refuses_pkce_like_franceconnect(client, fc):
    authorize = client.post("/franceconnect/connexion/")["Location"]
    refused = requests.get(f"{authorize}&code_challenge=abc&code_challenge_method=S256", timeout=10)
    assert refused.status_code == 400
    assert "invalid_request" in refused.text


def test_first_login_links_the_matching_account_and_is_strong(client, fc, mailoutbox):
    member = marie()
    account = with_account(member)
    path, params = through_provider(client, fc, "marie")
    response = client.get(path, params)
    assert response.status_code == 302
    assert response["Location"] == "/"
    session = client.session
    row = MemberSession.objects.get(pk=session[SESSION_KEY])
    assert row.account == account
    assert row.ended_at is None
    assert session[ID_TOKEN_KEY].count(".") == 2
    link = FranceConnectLink.objects.get(account=account)
    assert link.issuer == fc.issuer
    assert link.last_acr == "eidas1"
    # This engine puts `amr` in the ID token only when the claims parameter asks for it, which
    # FranceConnect refuses; recording it when present is proved in test_services.py.
    assert link.last_amr == []
    assert link.last_auth_time is not None
    assert link.family_name == "LÉGER"
    # A strong login: no e-mailed code was sent.
    assert mailoutbox == []
    # Nothing kept of the access token.
    assert not any("access" in key for key, _value in session.items())
    assert AuditEvent.objects.filter(action="franceconnect.linked", member_id=member.pk).exists()


def test_second_login_uses_the_link_and_refreshes_it(client, fc):
    account = with_account(marie())
    path, params = through_provider(client, fc, "marie")
    client.get(path, params)
    link = FranceConnectLink.objects.get(account=account)
    first_login = link.last_login_at
    client.logout()
    # Someone edits the register: the link still holds, it does not depend on the names.
    account.member.given_names = "Marie"
    account.member.save()
    path, params = through_provider(client, fc, "marie")
    response = client.get(path, params)
    assert response.status_code == 302
    assert FranceConnectLink.objects.get(pk=link.pk).last_login_at > first_login
    assert FranceConnectLink.objects.count() == 1


def test_first_login_without_account_creates_it_with_no_provisional_code(client, fc, mailoutbox):
    member = jean()
    path, params = through_provider(client, fc, "jean")
    response = client.get(path, params)
    assert response["Location"] == "/franceconnect/code-secret/"
    account = Account.objects.get(member=member)
    assert account.is_active
    assert account.secret_code_hash == ""
    assert not account.provisional_codes.exists()
    assert mailoutbox == []
    assert FranceConnectLink.objects.filter(account=account).exists()
    offer = client.get("/franceconnect/code-secret/")
    assert offer.status_code == 200
    chosen = client.post(
        "/franceconnect/code-secret/",
        {"new_secret_code": SECRET, "confirm": SECRET},
    )
    assert chosen.status_code == 302
    account.refresh_from_db()
    assert account.has_definitive_code


def test_ambiguous_identity_asks_nir_and_code_once_then_links(client, fc):
    first = paul()
    paul()  # a second register entry with the same identity pivot
    account = with_account(first)
    path, params = through_provider(client, fc, "paul")
    response = client.get(path, params)
    assert response["Location"] == "/franceconnect/rattacher/"
    assert SESSION_KEY not in client.session
    wrong = client.post("/franceconnect/rattacher/", {"nir": first.nir, "secret_code": "nope"})
    assert wrong.status_code == 200
    assert not FranceConnectLink.objects.exists()
    right = client.post("/franceconnect/rattacher/", {"nir": first.nir, "secret_code": SECRET})
    assert right.status_code == 302
    assert FranceConnectLink.objects.get().account == account
    assert MemberSession.objects.get(pk=client.session[SESSION_KEY]).account == account
    client.logout()
    # Next time FranceConnect alone is enough.
    path, params = through_provider(client, fc, "paul")
    assert client.get(path, params)["Location"] == "/"


def test_cancel_at_the_provider_comes_back_as_access_denied(client, fc):
    path, params = through_provider(client, fc, "marie", cancel=True)
    assert params["error"] == "access_denied"
    response = client.get(path, params, follow=True)
    assert response.redirect_chain[-1][0] == "/connexion/"
    assert "annulée" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(
        action="franceconnect.callback_error", data__reason="access_denied"
    ).exists()


def test_replayed_state_gets_a_400_and_no_token_call(client, fc):
    with_account(marie())
    path, params = through_provider(client, fc, "marie")
    assert client.get(path, params).status_code == 302
    client.logout()
    replay = client.get(path, params)
    assert replay.status_code == 400
    assert AuditEvent.objects.filter(action="franceconnect.state_invalid").exists()


def test_reused_code_restarts_with_a_neutral_message(client, fc):
    with_account(marie())
    path, params = through_provider(client, fc, "marie")
    client.get(path, params)
    # A new attempt, answered with the previous (spent) code but the right state.
    start = client.post("/franceconnect/connexion/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    client.session.save()
    response = client.get(path, {"code": params["code"], "state": state}, follow=True)
    assert response.redirect_chain[-1][0] == "/connexion/"
    assert "pas abouti" in response.content.decode()
    assert AuditEvent.objects.filter(action="franceconnect.unavailable").exists()


def test_logout_ends_both_sessions_and_checks_the_state(client, fc):
    account = with_account(marie())
    path, params = through_provider(client, fc, "marie")
    client.get(path, params)
    session_row = MemberSession.objects.get(account=account)
    response = client.post("/franceconnect/deconnexion/")
    end = urlsplit(response["Location"])
    assert f"{end.scheme}://{end.netloc}{end.path}" == f"{fc.issuer}/session/end"
    query = parse_qs(end.query)
    assert set(query) == {"id_token_hint", "state", "post_logout_redirect_uri"}
    assert query["post_logout_redirect_uri"] == [fc.post_logout_redirect_uri]
    session_row.refresh_from_db()
    assert session_row.ended_at is not None
    assert SESSION_KEY not in client.session
    # The provider ends its session (its page posts its form at once) and comes back.
    browser = requests.Session()
    page = browser.get(response["Location"], timeout=10)
    form_action = re.search(r'action="([^"]+)"', page.text).group(1)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    fields["logout"] = "yes"
    back = browser.post(
        requests.compat.urljoin(page.url, form_action),
        data=fields,
        allow_redirects=False,
        timeout=10,
    )
    back_to = urlsplit(back.headers["Location"])
    assert back.headers["Location"].startswith(fc.post_logout_redirect_uri)
    returned = {k: v[0] for k, v in parse_qs(back_to.query).items()}
    assert returned["state"] == query["state"][0]
    done = client.get(back_to.path, returned, follow=True)
    assert done.redirect_chain[-1][0] == "/connexion/"
    assert "FranceConnect" in done.content.decode()
    # The provider's session is over: a new login asks again who the person is.
    again = browser.get(client.post("/franceconnect/connexion/")["Location"], timeout=10)
    assert "/interaction/" in again.url
    # The state is single use, and a forged one is refused.
    assert client.get(back_to.path, returned).status_code == 400
    assert client.get(back_to.path, {"state": "forged" * 8}).status_code == 400


def test_nothing_of_the_pivot_reaches_the_logs_or_audit_data(client, fc, caplog):
    with_account(marie())
    with caplog.at_level("DEBUG"):
        path, params = through_provider(client, fc, "marie")
        client.get(path, params)
    text = caplog.text + " ".join(str(e.data) for e in AuditEvent.objects.all())
    for value in ("LÉGER", "Marie Hélène", "1984-03-12", "marie.leger@example.org"):
        assert value not in text


def test_the_page_asked_for_comes_after_the_login(client, fc):
    with_account(marie())
    path, params = through_provider(
        client, fc, "marie", start_data={"suite": "/mon-compte/securite/franceconnect/"}
    )
    assert client.get(path, params)["Location"] == "/mon-compte/securite/franceconnect/"


def test_another_site_is_never_the_page_after_login(client, fc):
    with_account(marie())
    path, params = through_provider(
        client, fc, "marie", start_data={"suite": "https://evil.example/"}
    )
    assert client.get(path, params)["Location"] == "/"


def test_an_answer_naming_another_issuer_is_refused_before_the_token_call(client, fc):
    with_account(marie())
    path, params = through_provider(client, fc, "marie")
    params["iss"] = "https://evil.example"
    response = client.get(path, params)
    assert response["Location"] == "/connexion/"
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="franceconnect.issuer_mismatch").exists()
