"""The session store reads rows like Django's database backend does, expiry included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assure.core.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _saved(**data) -> str:
    store = SessionStore()
    store.update(data)
    store.save()
    assert store.session_key
    return store.session_key


def test_a_saved_session_loads_in_one_query():
    key = _saved(member=42, lang="fr")
    SessionStore(session_key=key).load()  # the read is compiled on first use
    with CaptureQueriesContext(connection) as queries:
        loaded = SessionStore(session_key=key)
        assert loaded["member"] == 42
        assert loaded["lang"] == "fr"
    assert len(queries) == 1


def test_an_expired_session_is_empty_and_gets_a_new_key():
    key = _saved(member=42)
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    store = SessionStore(session_key=key)
    assert store.load() == {}
    assert store.session_key is None  # as Django's backend: the old key is never reused


def test_unknown_and_malformed_keys_are_empty():
    for key in ("x" * 32, "", None, "'; DROP TABLE django_session; --"):
        store = SessionStore(session_key=key)
        assert store.load() == {}
    assert Session.objects.count() == 0  # nothing created, nothing removed


def test_a_saved_session_is_still_written_by_django():
    key = _saved(member=1)
    store = SessionStore(session_key=key)
    store["member"] = 2
    store.save()
    assert SessionStore(session_key=key)["member"] == 2
