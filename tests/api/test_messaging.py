"""messages/subjects, threads, attachments (API.md): shapes, multipart uploads, owner checks."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from assure.identity.models import Account
from assure.identity.services import app_tokens_issue
from assure.messaging import services
from assure.messaging.models import Thread
from tests.members.factories import MemberFactory
from tests.messaging import files
from tests.messaging.conftest import TODAY
from tests.messaging.helpers import advisor, write

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def member(db):
    return MemberFactory(given_names="Zoé Anne", birth_name="N'DIAYE")


@pytest.fixture
def other_member(db):
    return MemberFactory(given_names="Marc", birth_name="LEROY")


THREAD_KEYS = {
    "id",
    "subject",
    "status",
    "created_at",
    "last_message_at",
    "unread",
    "answer_expected_by",
    "reference",
}


@pytest.fixture
def auth(member):
    account = Account.objects.create(member=member, secret_code_hash="x", must_change_code=False)
    tokens = app_tokens_issue(account=account, device_label="Téléphone")
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.access_token}"}


def _pdf(name: str = "releve.pdf", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else files.pdf(), "application/pdf")


def test_endpoints_need_a_token(client):
    for method, path in [
        ("get", "messages/subjects"),
        ("get", "threads"),
        ("post", "threads"),
        ("get", "threads/1"),
        ("post", "threads/1/messages"),
        ("get", "attachments/1"),
    ]:
        response = getattr(client, method)(f"/api/v1/{path}")
        assert response.status_code == 401, path
        assert response["Content-Type"] == "application/problem+json"


def test_subjects(client, auth):
    body = client.get("/api/v1/messages/subjects", **auth).json()
    assert body["next"] is None
    assert body["items"][0] == {
        "code": "remboursements",
        "label": "Mes remboursements",
        "help_text": "Un remboursement attendu, un montant à comprendre, une feuille de soins "
        "envoyée.",
    }
    english = client.get("/api/v1/messages/subjects", HTTP_ACCEPT_LANGUAGE="en", **auth).json()
    assert english["items"][0]["label"] == "My reimbursements"


def test_create_with_files_then_read(client, auth, member):
    response = client.post(
        "/api/v1/threads",
        {
            "subject": "remboursements",
            "body": "<b>Bonjour</b>\nma question",
            "files": [_pdf(), SimpleUploadedFile("photo.png", files.png(), "image/png")],
        },
        **auth,
    )
    assert response.status_code == 201, response.content
    thread = response.json()
    assert set(thread) >= THREAD_KEYS
    assert thread["subject"] == "remboursements"
    assert thread["status"] == "waiting_advisor"
    assert thread["answer_expected_by"] == "2026-12-03"
    assert thread["unread"] is False
    [message] = thread["messages"]
    assert message["author"] == "member"
    assert message["body"] == "<b>Bonjour</b>\nma question"  # JSON carries text; clients escape
    assert [(a["name"], a["content_type"]) for a in message["attachments"]] == [
        ("releve.pdf", "application/pdf"),
        ("photo.png", "image/png"),
    ]
    pdf_id = message["attachments"][0]["id"]
    download = client.get(f"/api/v1/attachments/{pdf_id}", **auth)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == files.pdf()


def test_list_unread_and_read(client, auth, member, django_assert_max_num_queries):
    threads = []
    for day in (20, 21, 22):
        with time_machine.travel(dt.datetime(2026, 11, day, 9, 0, tzinfo=dt.UTC), tick=False):
            threads.append(write(member))
    user = advisor()
    services.thread_answer(
        actor=services.staff_actor(user), user=user, thread=threads[0], body="Réponse"
    )
    with django_assert_max_num_queries(8):
        items = client.get("/api/v1/threads", **auth).json()["items"]
    assert [i["id"] for i in items] == [threads[0].pk, threads[2].pk, threads[1].pk]
    assert set(items[0]) == THREAD_KEYS
    assert items[0]["unread"] is True
    assert items[0]["status"] == "waiting_member"
    assert items[0]["answer_expected_by"] is None
    detail = client.get(f"/api/v1/threads/{threads[0].pk}", **auth).json()
    assert [m["author"] for m in detail["messages"]] == ["member", "advisor"]
    assert client.get("/api/v1/threads", **auth).json()["items"][0]["unread"] is False


def test_list_pages_with_a_cursor(client, auth, member):
    for _ in range(5):
        write(member)
    first = client.get("/api/v1/threads?limit=2", **auth).json()
    second = client.get(f"/api/v1/threads?limit=2&cursor={first['next']}", **auth).json()
    third = client.get(f"/api/v1/threads?limit=2&cursor={second['next']}", **auth).json()
    ids = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert len(ids) == len(set(ids)) == 5
    assert third["next"] is None
    bad = client.get("/api/v1/threads?cursor=nonsense", **auth)
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_cursor"


def test_reply(client, auth, member):
    thread = write(member)
    response = client.post(
        f"/api/v1/threads/{thread.pk}/messages", {"body": "Complément", "files": [_pdf()]}, **auth
    )
    assert response.status_code == 201
    assert response.json()["author"] == "member"
    assert len(response.json()["attachments"]) == 1


def test_reply_to_a_closed_thread(client, auth, member):
    thread = write(member)
    services.thread_close(actor=services.member_actor(member), thread=thread)
    response = client.post(f"/api/v1/threads/{thread.pk}/messages", {"body": "x"}, **auth)
    assert response.status_code == 409
    assert response.json()["code"] == "thread_closed"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (files.pdf_with_javascript(), "pdf_active_content"),
        (files.pdf_with_embedded_file(), "pdf_embedded_file"),
        (files.fake_executable(), "type_not_allowed"),
    ],
)
def test_refused_file(client, auth, data, reason):
    response = client.post(
        "/api/v1/threads",
        {"subject": "remboursements", "body": "x", "files": [_pdf("a.pdf", data)]},
        **auth,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "attachment_refused"
    assert body["reason"] == reason
    assert body["errors"]["files"]
    assert not Thread.objects.exists()


def test_validation_errors(client, auth):
    response = client.post("/api/v1/threads", {"subject": "nope", "body": "x"}, **auth)
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_subject"
    response = client.post(
        "/api/v1/threads", {"subject": "remboursements", "body": "x" * 5001}, **auth
    )
    assert response.json()["code"] == "invalid_body"
    response = client.post(
        "/api/v1/threads",
        {"subject": "remboursements", "body": "x", "files": [_pdf(f"{i}.pdf") for i in range(4)]},
        **auth,
    )
    assert response.json()["code"] == "too_many_files"


def test_another_members_objects_answer_exactly_as_missing_ones(client, auth, other_member):
    theirs = write(other_member, files=[("a.pdf", files.pdf())])
    attachment = theirs.messages.get().attachments.get()
    pairs = [
        ("get", f"threads/{theirs.pk}", f"threads/{theirs.pk + 100}", {}),
        (
            "post",
            f"threads/{theirs.pk}/messages",
            f"threads/{theirs.pk + 100}/messages",
            {"body": "x"},
        ),
        ("get", f"attachments/{attachment.pk}", f"attachments/{attachment.pk + 100}", {}),
    ]
    for method, path, missing_path, data in pairs:
        theirs_response = getattr(client, method)(f"/api/v1/{path}", data, **auth)
        missing = getattr(client, method)(f"/api/v1/{missing_path}", data, **auth)
        assert theirs_response.status_code == missing.status_code == 404
        assert theirs_response.json() == missing.json()
        assert theirs_response.json()["code"] == "not_found"
    assert theirs.messages.count() == 1


def test_openapi_describes_the_endpoints_as_they_answer(client, auth, member):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    for path in (
        "/api/v1/messages/subjects",
        "/api/v1/threads",
        "/api/v1/threads/{thread_id}",
        "/api/v1/threads/{thread_id}/messages",
        "/api/v1/attachments/{attachment_id}",
    ):
        assert path in paths
    assert "multipart/form-data" in paths["/api/v1/threads"]["post"]["requestBody"]["content"]
    schemas = document["components"]["schemas"]
    write(member)
    item = client.get("/api/v1/threads", **auth).json()["items"][0]
    assert set(item) == set(schemas["ThreadOut"]["properties"])
    detail = client.get(f"/api/v1/threads/{item['id']}", **auth).json()
    assert set(detail) == set(schemas["ThreadDetailOut"]["properties"])
    assert set(detail["messages"][0]) == set(schemas["MessageOut"]["properties"])


def test_a_payment_reference_may_come_with_the_question(client, auth):
    response = client.post(
        "/api/v1/threads",
        {"subject": "remboursements", "body": "Ce paiement ?", "reference": "PAY-2026-7"},
        **auth,
    )
    assert response.json()["reference"] == "PAY-2026-7"
    response = client.post(
        "/api/v1/threads",
        {"subject": "remboursements", "body": "x", "reference": "<script>"},
        **auth,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_reference"
