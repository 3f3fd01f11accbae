"""Fixtures of the profile tests: a signed-in member on 26 November 2026."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from assure.identity.models import Account
from assure.members.models import Member
from assure.notifications.models import OutboxMessage
from tests.identity.helpers import active_account
from tests.members.factories import BeneficiaryFactory, MemberFactory

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
ANY_URL = re.compile(r"[a-z][a-z0-9+.-]*://|www\.", re.IGNORECASE)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def member(db) -> Member:
    member = MemberFactory(given_names="Zoé", birth_name="MARTIN", email="zoe@example.org")
    BeneficiaryFactory(member=member, given_names="Léa", birth_name="MARTIN")
    return member


@pytest.fixture
def account(member) -> Account:
    return active_account(member)


def messages_for(member: Member, template: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(member_id=member.pk, template=template).order_by("id"))
