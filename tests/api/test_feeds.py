"""`POST /api/v1/feeds/members` (API.md, "Fund systems")."""

from __future__ import annotations

import pytest

from assure.api.feed_tokens import feed_token_create, feed_token_revoke
from assure.api.models import FeedToken
from assure.core.models import FeedRun
from assure.core.services import Actor
from assure.members.models import Member
from tests.members.lines import jsonl, member_line

pytestmark = pytest.mark.django_db

URL = "/api/v1/feeds/members"
NDJSON = "application/x-ndjson"


@pytest.fixture
def token() -> str:
    _record, value = feed_token_create(name="register", actor=Actor.system("tests"))
    return value


def send(client, body: bytes, token: str | None, content_type: str = NDJSON):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(URL, data=body, content_type=content_type, **headers)


def test_a_feed_is_loaded_and_answered_with_counts_and_rejects(client, token):
    body = jsonl(member_line(1), "{broken", member_line(2, sex="X"), member_line(3))
    response = send(client, body, token)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": [
            {"line": 2, "external_id": None, "errors": {"__all__": ["invalid_json"]}},
            {"line": 3, "external_id": "M0002", "errors": {"sex": ["invalid_choice"]}},
        ],
    }
    assert Member.objects.count() == 2
    run = FeedRun.objects.get()
    assert (run.source, run.actor, run.created, run.rejected) == ("api", "register", 2, 2)
    assert FeedToken.objects.get().last_used_at is not None

    again = send(client, jsonl(member_line(1), member_line(3, email="x@example.org")), token)
    assert again.json() == {"created": 0, "updated": 1, "unchanged": 1, "rejected": []}


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer afd_wrong", "Basic dXNlcjpwYXNz", "Token abc"],
)
def test_a_missing_or_wrong_token_is_a_401_problem(client, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.post(URL, data=jsonl(member_line(1)), content_type=NDJSON, **headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401
    assert body["code"] == "invalid_token"
    assert body["title"]
    assert not Member.objects.exists()
    assert not FeedRun.objects.exists()


def test_a_revoked_token_is_refused(client, token):
    feed_token_revoke(name="register", actor=Actor.system("tests"))
    response = send(client, jsonl(member_line(1)), token)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert not Member.objects.exists()


def test_another_media_type_is_a_415_problem(client, token):
    response = send(client, b'{"external_id": "M1"}', token, content_type="application/json")
    assert response.status_code == 415
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "unsupported_media_type"
    assert not FeedRun.objects.exists()


def test_a_body_of_blank_lines_loads_nothing(client, token):
    response = send(client, b"\n  \n", token)
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 0, "rejected": []}


def test_the_body_is_read_as_a_stream_not_as_request_body(client, token, settings):
    """A register larger than Django's in-memory body limit still goes through."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = jsonl(*[member_line(n) for n in range(1, 6)])
    assert len(body) > 1000
    response = send(client, body, token)
    assert response.status_code == 200
    assert response.json()["created"] == 5


def test_the_openapi_document_describes_the_endpoint(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"][URL]["post"]
    assert operation["operationId"] == "feeds_members_load"
    assert list(operation["requestBody"]["content"]) == [NDJSON]
    assert {"200", "401", "415"} <= set(operation["responses"])
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    ref = answer["$ref"].rsplit("/", 1)[-1]
    schema = document["components"]["schemas"][ref]
    assert set(schema["required"]) == {"created", "updated", "unchanged", "rejected"}
    assert operation["security"]
    scheme = next(iter(operation["security"][0]))
    assert document["components"]["securitySchemes"][scheme]["scheme"] == "bearer"


def test_the_problem_title_follows_the_request_language(client):
    french = client.post(URL, data=b"\n", content_type=NDJSON)
    english = client.post(URL, data=b"\n", content_type=NDJSON, HTTP_ACCEPT_LANGUAGE="en")
    assert french.json()["title"] == "Jeton de flux absent, inconnu ou révoqué."
    assert english.json()["title"] == "Feed token missing, unknown or revoked."
