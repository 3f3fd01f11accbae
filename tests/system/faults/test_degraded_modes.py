"""The product's side of the fault tests, in one process and on any database: the 503 answers,
/readyz's "degraded", the throttling fallback to the database, the dashboard's outbox backlog."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from assure.backoffice import roles
from assure.core import views
from assure.core.middleware import ServiceUnavailableMiddleware, is_database_outage
from assure.identity import throttling
from assure.notifications.models import OutboxMessage
from tests.backoffice.helpers import signed_in, staff_user

pytestmark = pytest.mark.system

# A Redis no one listens to: port 1 refuses at once, as a stopped server does.
UNREACHABLE_REDIS = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
}


class _Cause(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _operational(sqlstate: str | None = None) -> OperationalError:
    error = OperationalError("connection failed")
    if sqlstate is not None:
        error.__cause__ = _Cause(sqlstate)
    return error


def _sqlite_error(message: str) -> OperationalError:
    import sqlite3

    error = OperationalError(message)
    error.__cause__ = sqlite3.OperationalError(message)
    return error


def test_only_an_unreachable_database_counts_as_an_outage():
    assert is_database_outage(_operational())
    assert is_database_outage(_operational("57P01"))  # terminated by the administrator
    assert is_database_outage(_operational("08006"))  # connection failure
    assert not is_database_outage(_operational("40P01"))  # a deadlock: the server answered
    assert not is_database_outage(ValueError("no"))
    assert is_database_outage(_sqlite_error("database is locked"))
    assert not is_database_outage(_sqlite_error("no such table: members_member"))
    assert not is_database_outage(None)


def _middleware_answer(path: str):
    request = RequestFactory().get(path)
    middleware = ServiceUnavailableMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    return middleware.process_exception(request, _operational())


def test_a_page_meeting_an_unreachable_database_answers_the_503_page():
    response = _middleware_answer("/mes-paiements/")
    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "<h1" in html
    assert "Service momentanément indisponible" in html
    assert "Réessayez dans quelques minutes" in html


def test_the_api_answers_the_unavailable_problem():
    response = _middleware_answer("/api/v1/sessions")
    assert response is not None
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "30"
    body = json.loads(response.content)
    assert body["code"] == "unavailable"
    assert body["status"] == 503
    assert body["type"] == "/api/v1/docs#error-unavailable"


def test_other_errors_are_left_to_the_500_handler():
    request = RequestFactory().get("/")
    middleware = ServiceUnavailableMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    assert middleware.process_exception(request, ValueError("a bug")) is None
    assert middleware.process_exception(request, _operational("40001")) is None
    try:
        raise ValueError("a bug")
    except ValueError:
        assert views.server_error(request).status_code == 500


def test_an_outage_met_before_any_view_is_a_503_too():
    """The session or authentication middleware meets the database first: handler500 knows."""
    request = RequestFactory().get("/")
    try:
        raise _operational()
    except OperationalError:
        response = views.server_error(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


@pytest.fixture
def redis_unreachable(settings):
    settings.CACHES = {
        "default": UNREACHABLE_REDIS,
        "fallback": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    throttling.cache._primary_down_until = 0.0
    yield
    throttling.cache._primary_down_until = 0.0


@pytest.mark.django_db
def test_readyz_is_degraded_with_200_when_only_redis_is_down(client, redis_unreachable):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_readyz_is_unavailable_when_a_check_that_cannot_degrade_fails(client, settings):
    settings.CACHES = {"default": UNREACHABLE_REDIS}  # no fallback: nothing to degrade to
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


@pytest.mark.django_db
def test_throttling_counts_in_the_fallback_while_redis_is_down(redis_unreachable):
    from django.core.cache import caches

    identifier = "185057505612345"
    locks = [throttling.login_failure(identifier) for _ in range(5)]
    assert locks[:4] == [None] * 4
    assert locks[4] is not None  # the fifth failure locks, counted without Redis
    assert throttling.cache.using_fallback()
    assert throttling.login_lock(identifier) == locks[4]
    state = throttling.login_state(identifier, "192.0.2.1")
    assert state.lock == locks[4]
    # The counters are in the fallback cache, not lost.
    assert caches["fallback"].get(throttling._key("until", identifier)) is not None


@pytest.mark.django_db
def test_the_supervisor_dashboard_shows_the_outbox_backlog():
    for n, status in enumerate(["pending", "pending", "sending", "failed", "sent"]):
        OutboxMessage.objects.create(
            channel="email",
            idempotency_key=f"backlog-{n}",
            template="test_notice",
            recipient={"email": f"x{n}@example.org"},
            status=status,
        )
    supervisor = signed_in(staff_user("sophie", role=roles.SUPERVISOR))
    page = supervisor.get("/backoffice/tableau-de-bord/").content.decode()
    assert 'id="outbox-pending">2<' in page
    assert 'id="outbox-sending">1<' in page
    assert 'id="outbox-failed">1<' in page
    assert "Envois en attente" in page
