"""Messaging tests live on a fixed day; uploaded files go to a fresh folder per test."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.members.factories import MemberFactory

# Thursday 26 November 2026, 10:00 in Paris.
TODAY = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


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
