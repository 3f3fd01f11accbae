"""Where throttling counters live must not let an attacker erase them.

Django's database cache deletes a third of its rows once it holds more than MAX_ENTRIES (300 by
default), whatever they hold: a spray of a few hundred NIRs would evict locks and counters.
"""

from __future__ import annotations

import pytest
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command

from assure import settings as assure_settings
from assure.identity import throttling

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = "security_test_cache"


def _cache(**options) -> DatabaseCache:
    return DatabaseCache(TABLE, {"OPTIONS": options})


@pytest.fixture
def table():
    call_command("createcachetable", TABLE, verbosity=0)
    yield
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}")


def _spray(cache: DatabaseCache) -> bool:
    """An address's block, then a failure counter per sprayed NIR: is the block still there?"""
    block = throttling._key("addr-until", "203.0.113.5")
    cache.set(block, 1e12, 3600)
    for n in range(330):
        cache.add(throttling._key("fails", f"2850175{n:06d}"), 1, 3600)
    return cache.get(block) is not None


def test_django_default_loses_a_lock_to_a_spray(table):
    """The attack the setting prevents, shown on Django's default."""
    assert not _spray(_cache())


def test_the_settings_keep_every_lock_through_the_spray(table):
    options = {"MAX_ENTRIES": assure_settings.DATABASE_CACHE_MAX_ENTRIES}
    assert _spray(_cache(**options))
    assert assure_settings.DATABASE_CACHE_MAX_ENTRIES >= 100_000
    for alias in ("default", "fallback"):
        config = assure_settings.CACHES.get(alias)
        if config and config["BACKEND"].endswith("DatabaseCache"):
            assert config["OPTIONS"]["MAX_ENTRIES"] == assure_settings.DATABASE_CACHE_MAX_ENTRIES
