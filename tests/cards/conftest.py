"""Fixtures of the cards tests: a member with a child, on 26 November 2026."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from assure.core.services import Actor
from assure.members.models import Member
from tests.members.factories import BeneficiaryFactory, MemberFactory

TODAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def member(db) -> Member:
    member = MemberFactory(given_names="Zoé", birth_name="MARTIN")
    BeneficiaryFactory(member=member, given_names="Léa", birth_name="MARTIN")
    return member


def actor_for(member: Member) -> Actor:
    return Actor(kind="member", id=str(member.pk), display="test")
