"""Fixtures of the payments tests: a member signed in on the web client, time set in Nov. 2026."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from assure.identity.middleware import SESSION_KEY
from assure.identity.models import Account, MemberSession
from assure.members.models import Member
from tests.members.factories import MemberFactory

# The day the tests live on: the factories' lines are a few weeks old.
TODAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def sign_in(client, member: Member) -> Account:
    account = Account.objects.filter(member=member).first() or Account.objects.create(
        member=member, secret_code_hash="x", must_change_code=False
    )
    session = MemberSession.objects.create(account=account, kind=MemberSession.Kind.WEB)
    web = client.session
    web[SESSION_KEY] = session.pk
    web.save()
    return account


@pytest.fixture
def member(db) -> Member:
    return MemberFactory(given_names="Zoé Anne", birth_name="N'DIAYE")


@pytest.fixture
def member_client(client, member):
    sign_in(client, member)
    return client
