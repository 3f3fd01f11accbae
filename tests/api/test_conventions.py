"""API.md's conventions that hold for every endpoint: throttling, languages, the reference page."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache

from assure.api import openapi
from assure.api.api import api
from assure.identity.models import Account
from assure.identity.services import app_tokens_issue
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def bearer(db):
    member = MemberFactory()
    account = Account.objects.create(member=member, secret_code_hash="x", must_change_code=False)
    token = app_tokens_issue(account=account, device_label="Téléphone").access_token
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _rates(settings, **rates):
    settings.API_THROTTLE_RATES = {
        "address": "1000/60",
        "auth": "1000/60",
        "member": "1000/60",
        "feed": "1000/60",
        **rates,
    }


def _assert_throttled(response):
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_member_endpoints_are_throttled_per_account(client, bearer, settings):
    _rates(settings, member="3/60")
    answers = [client.get(f"{API}/me", **bearer) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    _assert_throttled(answers[-1])


def test_authentication_is_stricter_than_the_rest(client, settings):
    _rates(settings, auth="2/60")
    body = json.dumps({"refresh_token": "nope"})
    answers = [
        client.post(f"{API}/auth/refresh", body, content_type="application/json") for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [401, 401, 429]
    _assert_throttled(answers[-1])
    # The address budget of the other endpoints is untouched.
    assert client.get(f"{API}/verify/ABCD").status_code == 200


def test_guessing_tokens_is_throttled_by_address(client, settings):
    _rates(settings, address="2/60")
    answers = [client.get(f"{API}/me", HTTP_AUTHORIZATION="Bearer guess") for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    _assert_throttled(answers[-1])


def test_a_good_token_spends_both_budgets_a_bad_one_the_address(client, bearer, settings):
    _rates(settings, address="4/60", member="2/60")
    assert [client.get(f"{API}/me", **bearer).status_code for _ in range(3)] == [200, 200, 429]
    # The address has spent 3 of its 4: one more request of any kind, then nothing.
    assert client.get(f"{API}/me", HTTP_AUTHORIZATION="Bearer guess").status_code == 401
    _assert_throttled(client.get(f"{API}/me", HTTP_AUTHORIZATION="Bearer guess"))


def test_both_budgets_of_a_request_are_counted_in_one_round_trip(client, bearer, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assure.identity import throttling

    _rates(settings)
    calls = []
    count_many = throttling.cache.count_many

    def counted(keys):
        calls.append([key.split(":")[2] for key, _ttl in keys])
        return count_many(keys)

    throttling.cache.count_many = counted  # type: ignore[method-assign]
    try:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{API}/statements", **bearer).status_code == 200
    finally:
        del throttling.cache.count_many
    assert calls == [["address", "member"]]
    # On the database (the embedded set-up), that is one statement.
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache

    counting = [q for q in queries.captured_queries if "core_ratecounter" in q["sql"]]
    assert len(counting) == (1 if isinstance(caches["default"], DatabaseCache) else 0)


def test_feeds_are_throttled(client, settings):
    _rates(settings, address="1/60")
    client.post(f"{API}/feeds/members", "", content_type="application/x-ndjson")
    _assert_throttled(client.post(f"{API}/feeds/members", "", content_type="application/x-ndjson"))


def test_counts_live_in_the_shared_cache(client, bearer, settings):
    """Another process sees the same count: it is in the cache, not in this process."""
    _rates(settings, member="2/60")
    client.get(f"{API}/me", **bearer)
    keys = [k for k in _cache_keys() if "api:throttle:member" in k]
    assert keys, "the member's count is not in the shared cache"


def _cache_keys() -> list[str]:
    backend = cache._cache if hasattr(cache, "_cache") else None
    if isinstance(backend, dict):  # local memory (the SQLite pass)
        return [str(k) for k in backend]
    client = cache._cache.get_client()  # Redis
    return [k.decode() for k in client.keys("*api:throttle*")]


def test_french_by_default_english_on_request(client):
    french = client.get(f"{API}/me").json()
    english = client.get(f"{API}/me", HTTP_ACCEPT_LANGUAGE="en").json()
    assert french["title"] == "Vous devez être connecté."
    assert english["title"] == "You must be signed in."
    assert french["code"] == english["code"] == "unauthenticated"


def test_validation_messages_follow_the_language(client, bearer):
    fr = client.get(f"{API}/statements?limit=500", **bearer).json()
    en = client.get(f"{API}/statements?limit=500", HTTP_ACCEPT_LANGUAGE="en", **bearer).json()
    assert fr["code"] == en["code"] == "validation_error"
    assert fr["errors"]["limit"] == ["La valeur doit être au plus 100."]
    assert en["errors"]["limit"] == ["The value must be at most 100."]
    assert en["title"] == "Some information is not valid."


@pytest.mark.parametrize(
    "path", ["statements", "threads", "certificates", "me/changes", "me/access-log"]
)
def test_limit_is_validated_up_to_100(client, bearer, path):
    assert client.get(f"{API}/{path}?limit=100", **bearer).status_code == 200
    for bad in ("101", "0"):
        response = client.get(f"{API}/{path}?limit={bad}", **bearer)
        assert response.status_code == 400, (path, bad)
        assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("path", ["statements", "threads", "certificates", "me/changes"])
def test_a_foreign_cursor_is_invalid_cursor(client, bearer, path):
    response = client.get(f"{API}/{path}?cursor=%%%%", **bearer)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "path",
    [
        "statements",
        "allowances",
        "threads",
        "certificates",
        "ehic/orders",
        "me/changes",
        "me/access-log",
        "sessions",
        "messages/subjects",
    ],
)
def test_lists_have_the_envelope(client, bearer, path):
    body = client.get(f"{API}/{path}", **bearer).json()
    assert set(body) == {"items", "next"}


def test_every_operation_has_its_codes_listed():
    document = api.get_openapi_schema(path_prefix="/api/v1/")
    ids = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert ids == set(openapi.PROBLEM_CODES)
    for item in document["paths"].values():
        for op in item.values():
            problems = {s: r for s, r in op["responses"].items() if int(s) >= 400}
            assert "429" in problems
            assert problems["429"]["headers"]["Retry-After"]
            for response in problems.values():
                assert list(response["content"]) == ["application/problem+json"]
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"MemberBearer", "FeedTokenAuth"}
    assert all(s["scheme"] == "bearer" and s["description"] for s in schemes.values())


def test_reference_page_is_served_without_script(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>" not in html
    # Nothing fetched from elsewhere: every script, style and image is the project's own.
    assert re.search(r'(?:src|href)="(?:https?:)?//', html) is None
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    for code in ("invalid_credentials", "throttled", "not_found", "weak_secret_code"):
        assert f'id="error-{code}"' in html
    assert 'id="auth_login"' in html
    assert "POST /api/v1/feeds/statements" in html


def test_problem_types_link_to_the_reference_page(client):
    problem = client.get(f"{API}/me").json()
    assert problem["type"] == "/api/v1/docs#error-unauthenticated"
    html = client.get(f"{API}/docs").content.decode()
    assert re.search(r'id="error-unauthenticated"', html)
