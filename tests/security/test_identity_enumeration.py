"""The attacker's view of identity: nothing tells whether a NIR has an account.

Same status and body for a NIR with or without account on every public endpoint, the same lock,
and the same timing (medians of many tries compared with a generous bound: the Argon2id check is
done against a dummy hash when there is no account).
"""

from __future__ import annotations

import re
import statistics
import time

import pytest
from django.core.cache import cache

from assure.identity.models import Account
from assure.members.nir import with_key
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


# --- Answers and timing compared whole: status, body, headers; 200 tries a side ------------------

TRIES = 200
# Well formed (the web form checks the key before anything else) and in nobody's register.
UNKNOWN = with_key("2901275056999")


def _web_login(client, nir, address):
    return client.post(
        "/connexion/", {"nir": nir, "secret_code": "wrong secret code"}, REMOTE_ADDR=address
    )


def _same_answer(first, second, typed=()) -> None:
    """Alike apart from the CSRF mask and what was typed (the form shows the NIR back)."""
    assert first.status_code == second.status_code
    assert _body(first, typed) == _body(second, typed)
    assert _header_shape(first) == _header_shape(second)


def _body(response, typed=()) -> bytes:
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)
    for value in typed:
        body = body.replace(value.encode(), b"<TYPED>")
    return body


def _header_shape(response) -> dict[str, str]:
    """Header names and values; a cookie's value (random per request), the length and the
    expiry date (now, to the second) are left out, their presence kept."""
    volatile = {"content-length", "expires", "date"}
    shape = {k.lower(): "<volatile>" if k.lower() in volatile else v for k, v in response.items()}
    cookies = {name: (m["max-age"], m["path"]) for name, m in response.cookies.items()}
    return {**shape, "cookies": str(sorted(cookies.items()))}


@pytest.mark.parametrize("door", [_login, _web_login], ids=["api", "web"])
def test_login_unknown_and_known_nir_answer_alike_whole(client, door):
    known = active_account().member.nir
    unknown = UNKNOWN
    for address in ("203.0.113.30", "203.0.113.31"):
        _same_answer(
            door(client, known, address=address),
            door(client, unknown, address=address),
            typed=(known, unknown),
        )
        cache.clear()


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/creer-mon-compte/", False),
        ("/code-oublie/", False),
        ("/ai-je-un-compte/", False),
        (f"{API}/auth/signup", True),
        (f"{API}/auth/forgot-code", True),
        (f"{API}/auth/account-check", True),
    ],
)
def test_requests_answer_alike_whole(client, path, api):
    member = active_account().member
    stranger = MemberFactory()
    answers = []
    for person in (member, stranger):
        payload = {
            "nir": person.nir,
            "birth_date": person.birth_date.isoformat()
            if api
            else person.birth_date.strftime("%d/%m/%Y"),
            "vitale_serial": person.vitale_serial,
            "iban_end": person.iban[-7:],
            "channel": "email",
        }
        if api and "forgot" in path:
            payload = {k: payload[k] for k in ("nir", "birth_date", "channel")}
        if api and "account-check" in path:
            payload = {k: payload[k] for k in ("nir", "birth_date", "vitale_serial")}
        if api:
            answers.append(client.post(path, payload, content_type="application/json"))
        else:
            answers.append(client.post(path, payload))
    _same_answer(*answers)


def _interleaved_medians(call, sides, tries):
    """Alternating the sides, so that a slower moment of the machine weighs on both alike."""
    times = {side: [] for side in sides}
    for i in range(tries):
        for side in sides:
            cache.clear()  # under every limit: the locked answer skips the hash for all
            start = time.perf_counter()
            call(side, f"198.51.{i % 250}.{len(times[side]) % 250}")
            times[side].append(time.perf_counter() - start)
    return {side: statistics.median(values) for side, values in times.items()}


@pytest.mark.parametrize("door", [_login, _web_login], ids=["api", "web"])
def test_login_timing_medians_of_200_tries_within_20_percent(client, settings, door):
    """Medians of 200 interleaved tries a side. Argon2id costs 4 MiB here (instead of 19) to
    keep the suite short; the hash still weighs about half of a failed login, so a missing
    dummy check would put the medians far more than 20 % apart."""
    settings.ARGON2_MEMORY_COST_KIB = 4096
    known = active_account().member.nir  # hashed at the reduced cost too
    unknown = UNKNOWN
    door(client, unknown, address="192.0.2.1")  # the dummy hash is made once per cost
    medians = _interleaved_medians(
        lambda nir, address: door(client, nir, address=address), [known, unknown], TRIES
    )
    ratio = medians[unknown] / medians[known]
    assert 0.8 < ratio < 1.25, medians
