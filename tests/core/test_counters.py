"""Shared counters on the database: one statement, windows that end, nothing lost at once."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import close_old_connections

from assure.core import counters
from assure.core.models import RateCounter


@pytest.mark.django_db
def test_counts_up_then_starts_again_when_the_window_has_ended():
    with mock.patch("assure.core.counters.time.time", return_value=1_000_000.0):
        assert [counters.increment("k", 60) for _ in range(3)] == [1, 2, 3]
        assert counters.increment("other", 60) == 1
    with mock.patch("assure.core.counters.time.time", return_value=1_000_059.0):
        assert counters.increment("k", 60) == 4
    with mock.patch("assure.core.counters.time.time", return_value=1_000_060.0):
        assert counters.increment("k", 60) == 1
    assert RateCounter.objects.get(key="k").expires_at == 1_000_120


@pytest.mark.django_db
def test_expired_rows_are_purged_as_counting_goes_on():
    with mock.patch("assure.core.counters.time.time", return_value=1_000_000.0):
        for index in range(5):
            counters.increment(f"old-{index}", 10)
    with (
        mock.patch("assure.core.counters.time.time", return_value=1_000_100.0),
        mock.patch("assure.core.counters.random.randrange", return_value=0),
    ):
        counters.increment("new", 10)
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_simultaneous_increments_are_all_counted():
    # Django's database cache would read the same value in two threads and write it back once.
    assert _counted_by_8_threads(lambda: counters.increment("shared", 60)) == list(range(1, 201))


def _counted_by_8_threads(increment) -> list[int]:
    """Every value 8 threads got from 25 increments each, started together, sorted."""
    results: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def count() -> None:
        try:
            start.wait()
            for _ in range(25):
                value = increment()
                with lock:
                    results.append(value)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=count) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


@pytest.mark.redis
def test_redis_counts_with_an_expiry_that_does_not_slide():
    import time
    import uuid

    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from assure.identity.throttling import cache as shared

    primary = caches["default"]
    assert isinstance(primary, RedisCache)
    key = f"test:count:{uuid.uuid4().hex}"
    full_key = primary.make_and_validate_key(key)
    client = primary._cache.get_client(full_key, write=True)

    assert [shared.count(key, 60) for _ in range(3)] == [1, 2, 3]
    first_ttl = client.pttl(full_key)
    assert 55_000 < first_ttl <= 60_000
    time.sleep(0.3)
    assert shared.count(key, 60) == 4
    assert client.pttl(full_key) <= first_ttl - 250  # counting again does not extend the window
    client.delete(full_key)
    assert shared.count(key, 60) == 1  # a window that ended starts again from one


@pytest.mark.redis
def test_redis_simultaneous_counts_are_all_counted():
    import uuid

    from assure.identity.throttling import cache as shared

    key = f"test:count:{uuid.uuid4().hex}"
    assert _counted_by_8_threads(lambda: shared.count(key, 60)) == list(range(1, 201))


@pytest.mark.django_db
@pytest.mark.postgres
def test_counters_skip_the_write_ahead_log_on_postgresql():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'core_ratecounter'")
        assert cursor.fetchone() == ("u",)  # unlogged


@pytest.mark.django_db
def test_several_counters_in_one_statement_each_in_its_own_window():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with mock.patch("assure.core.counters.time.time", return_value=1_000_000.0):
        counters.increment("short", 10)
        with CaptureQueriesContext(connection) as queries:
            assert counters.increment_many([("long", 600), ("short", 10)]) == [1, 2]
        assert len(queries) == 1
        assert counters.increment_many([("short", 10), ("long", 600), ("third", 5)]) == [3, 2, 1]
    with mock.patch("assure.core.counters.time.time", return_value=1_000_010.0):
        # "short" has ended, "long" goes on: each row keeps its own window.
        assert counters.increment_many([("long", 600), ("short", 10)]) == [3, 1]
    with pytest.raises(ValueError, match="each key once"):
        counters.increment_many([("k", 10), ("k", 10)])
