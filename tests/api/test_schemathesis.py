"""API fuzzing (TESTING.md): schemathesis drives the app with the COMMITTED docs/openapi.json.

Every operation gets generated requests that fit the document (positive) and requests that break
it (negative), as a member who has statements, allowances, threads and certificates, and with a
feed token for the feeds. Any 5xx, any answer outside the document (body, status, content type)
fails. Requests go through the app's WSGI handler, the whole middleware stack included.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from assure.api.feed_tokens import feed_token_create
from assure.api.openapi import COMMITTED_DOCUMENT
from assure.core.services import Actor
from assure.identity.services import app_tokens_issue
from tests.identity.helpers import active_account
from tests.members.factories import BeneficiaryFactory, MemberFactory
from tests.payments.factories import (
    AllowancePaymentFactory,
    SickLeaveFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db(transaction=False)


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx, value) -> bytes:
    """Feeds take JSON Lines: generated text goes on the wire as it is, objects one a line."""
    if isinstance(value, bytes):
        return value
    text = value if isinstance(value, str) else json.dumps(value)
    return text.encode("utf-8", "surrogatepass")


SCHEMA = schemathesis.openapi.from_path(COMMITTED_DOCUMENT)
SCHEMA.app = WSGIHandler()
OPERATIONS = sorted(
    (result.ok() for result in SCHEMA.get_all_operations()), key=lambda op: op.label
)
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
# Bounded: 8 examples per operation and mode, about a minute and a half per pass in CI.
EXAMPLES = 8


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The throttle is tested on its own (test_throttling.py); here it must not hide the rest.
    settings.API_THROTTLE_RATES = {
        "address": "100000/60",
        "auth": "100000/60",
        "member": "100000/60",
        "feed": "100000/60",
    }
    settings.IDENTITY_REQUESTS_PER_ADDRESS_HOUR = 100000
    settings.DOCUMENTS_VERIFY_PER_ADDRESS = 100000


@pytest.fixture
def member_data(db):
    """A member with something behind every endpoint, and an account that can sign in."""
    member = MemberFactory(given_names="Zoé", birth_name="MARTIN")
    BeneficiaryFactory(member=member, given_names="Léa")
    for days in range(3):
        StatementFactory(member=member, care_date=dt.date(2026, 10, 1) + dt.timedelta(days=days))
    StatementFactory(member=member, status="rejected", paid_on=None, rejection_reason="Doublon")
    AllowancePaymentFactory(sick_leave=SickLeaveFactory(member=member))
    account = active_account(member)
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {_token(account)}"}
    made = [
        client.post(
            "/api/v1/certificates",
            json.dumps({"kind": "entitlement"}),
            content_type="application/json",
            **headers,
        ),
        client.post(
            "/api/v1/threads",
            {"subject": _subject_code(client, headers), "body": "Bonjour, une question."},
            **headers,
        ),
    ]
    assert [r.status_code for r in made] == [201, 201], [r.content for r in made]
    _feed, feed_token = feed_token_create(name="fuzz", actor=Actor.system())
    return {"account": account, "feed_token": feed_token}


def _subject_code(client, headers) -> str:
    return client.get("/api/v1/messages/subjects", **headers).json()["items"][0]["code"]


def _token(account) -> str:
    return app_tokens_issue(account=account, device_label="fuzz").access_token


def _headers(operation, data) -> dict[str, str]:
    security = {name for req in operation.definition.raw.get("security", []) for name in req}
    if "FeedTokenAuth" in security:
        return {"Authorization": f"Bearer {data['feed_token']}"}
    if "MemberBearer" in security:
        # A new token for every request: logout, sessions/{id} and account/terminate may end one.
        return {"Authorization": f"Bearer {_token(data['account'])}"}
    return {}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_operation_keeps_its_contract(operation, mode, member_data):
    seen: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        cache.clear()
        account = member_data["account"]
        account.refresh_from_db()
        if account.status != "active":
            account.status = "active"
            account.save(update_fields=["status"])
        # As Django's test client does: the WSGI handler must not close the connection that
        # holds the test's transaction (PostgreSQL checks a connection's health per request).
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = case.call_and_validate(
                headers=_headers(operation, member_data), checks=CHECKS
            )
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        seen.append(response.status_code)

    try:
        run()
    except Unsatisfiable:
        # Some operations have no way to break their input (e.g. no parameters at all).
        assert mode == GenerationMode.NEGATIVE
    if mode == GenerationMode.POSITIVE:
        assert seen, "no request was made"


def test_every_operation_is_fuzzed():
    """The document lists every endpoint; none may slip out of the run above."""
    labels = {op.label for op in OPERATIONS}
    assert len(labels) == 37
    assert "POST /api/v1/feeds/statements" in labels
    assert "GET /api/v1/me" in labels
