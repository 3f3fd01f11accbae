"""The PostgreSQL health check by socket poll: a dropped connection is replaced before a page
uses it, with no round trip when the connection is fine. PostgreSQL only: on SQLite (the embedded
default) there is no server to drop a connection, and these tests check that they run there."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import close_old_connections, connection, transaction

pytestmark = pytest.mark.django_db(transaction=True)


def _postgresql() -> bool:
    if connection.vendor != "postgresql":
        assert connection.vendor == "sqlite"
        return False
    return True


def _server_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _terminate(pid: int) -> None:
    """Ends a server process from another connection, as a restart or a failover would."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        dbname=settings["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def _next_request() -> None:
    """What Django does between two requests: the health check runs at the first query."""
    close_old_connections()


@pytest.fixture
def health_checked(settings):
    previous = connection.health_check_enabled
    connection.health_check_enabled = True
    yield
    connection.health_check_enabled = previous


def test_a_kept_connection_is_alive_without_a_round_trip(health_checked, monkeypatch):
    if not _postgresql():
        return
    pid = _server_pid()
    assert connection.idle_connection_alive()
    _next_request()

    def round_trip() -> bool:
        raise AssertionError("the health check ran a statement")

    monkeypatch.setattr(connection, "is_usable", round_trip)
    assert _server_pid() == pid  # the same server process: the connection was kept


def test_a_connection_the_server_dropped_is_replaced_before_the_page_uses_it(health_checked):
    if not _postgresql():
        return
    pid = _server_pid()
    _terminate(pid)
    deadline = time.monotonic() + 5
    while connection.idle_connection_alive() and time.monotonic() < deadline:
        time.sleep(0.02)  # the server's notice and end of file arrive at once, locally
    assert not connection.idle_connection_alive()
    _next_request()
    assert _server_pid() != pid  # a new connection, and no error for the page


def test_a_connection_inside_a_transaction_is_not_taken_as_idle(health_checked):
    if not _postgresql():
        return
    with transaction.atomic():
        _server_pid()
        assert not connection.idle_connection_alive()
    assert connection.idle_connection_alive()
