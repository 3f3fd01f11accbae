"""API.md, "Authentication (member)": bodies, status codes and error codes as written."""

from __future__ import annotations

import pytest
from django.test import Client

from assure.identity.models import MemberSession
from tests.identity.helpers import SECRET, active_account, last_message, otp_in, provisional_code_in
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"
NEW_SECRET = "la mer est calme ce matin"


def _post(client: Client, path: str, body: dict | None = None, **headers):
    return client.post(f"{API}/{path}", body or {}, content_type="application/json", **headers)


def _login(client, member, code, device_id="phone-1"):
    return _post(
        client, "auth/login", {"nir": member.nir, "secret_code": code, "device_id": device_id}
    )


def _signed_in(client, account, device_id="phone-1"):
    first = _login(client, account.member, SECRET, device_id)
    assert first.json()["status"] == "second_factor_required"
    otp = otp_in(last_message("identity_login_otp", account.member))
    response = _post(
        client,
        "auth/second-factor",
        {"challenge": first.json()["challenge"], "method": "email_otp", "code": otp},
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_signup_answers_202_whatever_happens(client):
    member = MemberFactory()
    good = {
        "nir": member.nir,
        "birth_date": member.birth_date.isoformat(),
        "vitale_serial": member.vitale_serial,
        "iban_end": member.iban[-7:],
        "channel": "email",
    }
    bad = dict(good, vitale_serial="nope")
    unknown = dict(good, nir="185057505699943")
    answers = [_post(client, "auth/signup", body) for body in (good, bad, unknown)]
    assert {a.status_code for a in answers} == {202}
    assert len({a.content for a in answers}) == 1
    last_message("identity_provisional_code", member)


def test_forgot_code_and_account_check_answer_202(client):
    member = MemberFactory()
    body = {"nir": member.nir, "birth_date": member.birth_date.isoformat(), "channel": "post"}
    assert _post(client, "auth/forgot-code", body).status_code == 202
    body = {
        "nir": member.nir,
        "birth_date": member.birth_date.isoformat(),
        "vitale_serial": member.vitale_serial,
    }
    assert _post(client, "auth/account-check", body).status_code == 202
    last_message("identity_account_check", member)


def test_first_login_code_change_then_tokens(client):
    member = MemberFactory()
    _post(
        client,
        "auth/signup",
        {
            "nir": member.nir,
            "birth_date": member.birth_date.isoformat(),
            "vitale_serial": member.vitale_serial,
            "iban_end": member.iban[-7:],
            "channel": "email",
        },
    )
    plain = provisional_code_in(last_message("identity_provisional_code", member))
    response = _login(client, member, plain)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "code_change_required"
    weak = _post(
        client,
        "auth/secret-code",
        {"challenge": body["challenge"], "new_secret_code": "password1234"},
    )
    assert weak.status_code == 400
    assert weak["Content-Type"] == "application/problem+json"
    assert weak.json()["code"] == "weak_secret_code"
    assert weak.json()["rules"] == ["breached"]
    done = _post(
        client, "auth/secret-code", {"challenge": body["challenge"], "new_secret_code": NEW_SECRET}
    )
    assert done.status_code == 200
    tokens = done.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 900
    assert tokens["status"] == "authenticated"


def test_login_known_device_gets_tokens_directly(client):
    account = active_account()
    _signed_in(client, account)
    response = _login(client, account.member, SECRET)
    assert response.status_code == 200
    assert set(response.json()) == {
        "status",
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
    }


def test_invalid_credentials_superseded_and_locked(client):
    account = active_account()
    response = _login(client, account.member, "wrong code here")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    for _ in range(4):
        response = _login(client, account.member, "wrong code here")
    assert response.status_code == 423
    assert response.json()["code"] == "locked"
    assert "locked_until" in response.json()


def test_superseded_code_answer(client):
    member = MemberFactory()
    from assure.core.services import Actor
    from assure.identity import services
    from assure.identity.models import Account

    account = Account.objects.create(member=member)
    old = services.provisional_code_issue(account=account, channel="email", actor=Actor.system())
    services.provisional_code_issue(account=account, channel="post", actor=Actor.system())
    response = _login(client, member, old.plain)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "superseded_code"
    assert body["channel"] == "post"
    assert len(body["replaced_on"]) == 10


def test_second_factor_wrong_code(client):
    account = active_account()
    first = _login(client, account.member, SECRET).json()
    otp = otp_in(last_message("identity_login_otp", account.member))
    response = _post(
        client,
        "auth/second-factor",
        {
            "challenge": first["challenge"],
            "method": "email_otp",
            "code": str((int(otp) + 1) % 10**6).zfill(6),
        },
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_code"


def test_refresh_rotation_reuse_and_logout(client):
    account = active_account()
    tokens = _signed_in(client, account)
    second = _post(client, "auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert second.status_code == 200
    reuse = _post(client, "auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "invalid_token"
    sessions = client.get(
        f"{API}/sessions", HTTP_AUTHORIZATION=f"Bearer {second.json()['access_token']}"
    )
    assert sessions.status_code == 401  # the family was revoked by the reuse

    tokens = _signed_in(client, account, device_id="phone-2")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}
    assert client.get(f"{API}/sessions", **auth).status_code == 200
    assert _post(client, "auth/logout", **auth).status_code == 204
    assert client.get(f"{API}/sessions", **auth).status_code == 401
    refresh = _post(client, "auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


def test_sessions_list_and_delete_other_members_is_404(client):
    account = active_account()
    other = active_account()
    tokens = _signed_in(client, account)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}
    body = client.get(f"{API}/sessions", **auth).json()
    assert body["next"] is None
    assert [item["current"] for item in body["items"]] == [True]
    foreign = MemberSession.objects.create(account=other, kind="web")
    response = client.delete(f"{API}/sessions/{foreign.pk}", **auth)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    missing = client.delete(f"{API}/sessions/999999", **auth)
    assert missing.json() == response.json()
    mine = MemberSession.objects.create(account=account, kind="web")
    assert client.delete(f"{API}/sessions/{mine.pk}", **auth).status_code == 204


def test_terminate_with_the_secret_code(client):
    account = active_account()
    tokens = _signed_in(client, account)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}
    wrong = _post(client, "account/terminate", {"secret_code": "not it at all"}, **auth)
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_credentials"
    done = _post(client, "account/terminate", {"secret_code": SECRET}, **auth)
    assert done.status_code == 202
    assert client.get(f"{API}/sessions", **auth).status_code == 401


def test_english_titles(client):
    account = active_account()
    response = client.post(
        f"{API}/auth/login",
        {"nir": account.member.nir, "secret_code": "wrong"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json()["title"] == "The social security number or the secret code is wrong."


def test_openapi_lists_the_auth_endpoints(client):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    for path in (
        "signup",
        "forgot-code",
        "account-check",
        "login",
        "second-factor",
        "secret-code",
        "refresh",
        "logout",
    ):
        assert f"{API}/auth/{path}" in paths
    assert f"{API}/sessions" in paths
    assert f"{API}/account/terminate" in paths


def test_signup_with_a_malformed_email_is_400_for_everyone(client):
    member = MemberFactory(email=None)
    bodies = set()
    for nir in (member.nir, "185057505699943"):
        response = _post(
            client,
            "auth/signup",
            {
                "nir": nir,
                "birth_date": member.birth_date.isoformat(),
                "vitale_serial": member.vitale_serial,
                "iban_end": member.iban[-7:],
                "email": "not an address",
                "channel": "email",
            },
        )
        assert response.status_code == 400
        bodies.add(response.content)
    assert len(bodies) == 1


def test_address_behind_trusted_proxy(settings, rf):
    from assure.identity.throttling import client_address

    request = rf.get("/", HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.2", REMOTE_ADDR="10.0.0.1")
    assert client_address(request) == "10.0.0.1"
    settings.IDENTITY_TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "10.0.0.2"
    settings.IDENTITY_TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == "198.51.100.7"


def test_known_device_login_query_count(client, django_assert_max_num_queries):
    """The hash is the cost of a login; the queries around it stay few (bench/login.py)."""
    account = active_account()
    _signed_in(client, account)
    # 7, plus the audit event's link to the hash chain: reading the chain's head, and on
    # PostgreSQL taking the append lock first (assure/core/audit.py).
    with django_assert_max_num_queries(9):
        response = _login(client, account.member, SECRET)
    assert response.json()["status"] == "authenticated"
