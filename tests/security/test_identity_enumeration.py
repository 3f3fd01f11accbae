"""The attacker's view of identity: nothing tells whether a NIR has an account.

Same status and body for a NIR with or without account on every public endpoint, the same lock,
and the same timing (medians of many tries compared with a generous bound: the Argon2id check is
done against a dummy hash when there is no account).
"""

from __future__ import annotations

import statistics
import time

import pytest
from django.core.cache import cache

from assure.identity.models import Account
from tests.identity.helpers import active_account
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _login(client, nir, code="wrong secret code", address="203.0.113.5"):
    return client.post(
        f"{API}/auth/login",
        {"nir": nir, "secret_code": code},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def _people():
    with_account = active_account().member
    pending = MemberFactory()
    Account.objects.create(member=pending)  # signed up, never logged in
    without = MemberFactory()
    not_in_register = "185057505699943"
    return [with_account.nir, pending.nir, without.nir, not_in_register]


def test_login_failure_same_status_and_body(client):
    answers = [_login(client, nir) for nir in _people()]
    assert {a.status_code for a in answers} == {401}
    assert len({a.content for a in answers}) == 1


def test_lock_same_for_every_nir(client):
    for nir in _people():
        for _ in range(4):
            _login(client, nir)
        locked = _login(client, nir)
        assert locked.status_code == 423
        body = locked.json()
        assert body["code"] == "locked"
        assert set(body) == {"type", "title", "status", "code", "locked_until"}


@pytest.mark.parametrize("endpoint", ["signup", "forgot-code", "account-check"])
def test_requests_same_answer(client, endpoint):
    member = active_account().member
    stranger = MemberFactory()
    bodies = []
    for person, nir in (
        (member, member.nir),
        (stranger, stranger.nir),
        (member, "185057505699943"),
    ):
        payload = {
            "nir": nir,
            "birth_date": person.birth_date.isoformat(),
            "vitale_serial": person.vitale_serial,
            "iban_end": person.iban[-7:],
            "channel": "email",
        }
        if endpoint == "forgot-code":
            payload = {k: payload[k] for k in ("nir", "birth_date", "channel")}
        if endpoint == "account-check":
            payload = {k: payload[k] for k in ("nir", "birth_date", "vitale_serial")}
        response = client.post(f"{API}/auth/{endpoint}", payload, content_type="application/json")
        bodies.append((response.status_code, response.content))
    assert len(set(bodies)) == 1
    assert bodies[0][0] == 202


def _median_seconds(client, nir, tries):
    times = []
    for i in range(tries):
        cache.clear()  # stay under the lock threshold: the locked answer skips the hash for all
        start = time.perf_counter()
        response = _login(client, nir, address=f"198.51.100.{i}")
        times.append(time.perf_counter() - start)
        assert response.status_code == 401
    return statistics.median(times)


def test_login_timing_does_not_tell_accounts_apart(client):
    with_account, pending, without, not_in_register = _people()
    _median_seconds(client, without, 2)  # warm up: the dummy hash is made once per process
    known = _median_seconds(client, with_account, 15)
    samples = {
        "provisional only": _median_seconds(client, pending, 15),
        "in register, no account": _median_seconds(client, without, 15),
        "not in register": _median_seconds(client, not_in_register, 15),
    }
    for name, median in samples.items():
        # Generous: the Argon2id check (~20 ms) is in both; a missing check would be a ratio > 5.
        assert 0.5 < median / known < 2, (name, median, known)


@pytest.mark.parametrize("path", ["/creer-mon-compte/", "/code-oublie/", "/ai-je-un-compte/"])
def test_web_requests_same_page_for_everyone(client, path):
    member = active_account().member
    stranger = MemberFactory()
    locations = set()
    for person in (member, stranger):
        response = client.post(
            path,
            {
                "nir": person.nir,
                "birth_date": person.birth_date.strftime("%d/%m/%Y"),
                "vitale_serial": person.vitale_serial,
                "iban_end": person.iban[-7:],
                "channel": "email",
            },
        )
        assert response.status_code == 302
        locations.add(response["Location"])
    assert len(locations) == 1
