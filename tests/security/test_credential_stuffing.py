"""Credential stuffing against the real server: many NIRs from one address, one NIR from many.

`assure serve` runs in a process of its own (gunicorn, several workers and threads, the database
cache shared between them, as on one machine in production), behind one trusted proxy so that the
test can speak from many client addresses (`X-Forwarded-For`). The attacker is a process of its
own with concurrent connections (tests/security/stuffing.py) while another member keeps opening
her Accueil page; her median latency once the limit stops the attack is compared with the median
before it. The limits are those of assure/identity/throttling.py: more than
`IDENTITY_ADDRESS_FAILURES` (50) failures in 10 minutes block an address, 5 failures lock a NIR.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.security.stuffing import DOORS
from tests.system.conftest import REPO

pytestmark = pytest.mark.system

START_TIMEOUT = 120.0
ATTEMPTS = 400  # per attack: eight times the address limit
PROBES_BEFORE = 21
THREADS = 2  # the attacker's concurrent requests
SECRET = "un cheval vert mange des pommes"
# The most a member's page may slow down, as a ratio of medians, while the attack runs.
LATENCY_RATIO = 3.0

SETUP = """
import json, sys
import django
django.setup()
from importlib import import_module
from django.conf import settings
from django.contrib.auth.hashers import make_password
from assure.identity.middleware import SESSION_KEY
from assure.identity.models import Account, MemberSession
from assure.members.nir import with_key
from tests.members.factories import MemberFactory

victim = MemberFactory()
Account.objects.create(member=victim, secret_code_hash=make_password(sys.argv[1]),
                       must_change_code=False, email="victim@example.org", email_verified=True)
sprayed = [MemberFactory() for _ in range(3)]
for member in sprayed:
    Account.objects.create(member=member, secret_code_hash=make_password("autre code secret 42"),
                           must_change_code=False)
prober = MemberFactory(given_names="Prudence", birth_name="VEILLEUSE")
account = Account.objects.create(member=prober, secret_code_hash="x", must_change_code=False)
web = MemberSession.objects.create(account=account, kind=MemberSession.Kind.WEB)
store = import_module(settings.SESSION_ENGINE).SessionStore()
store[SESSION_KEY] = web.pk
store.save()
# NIRs from the register and invented ones, all well formed (a malformed one never reaches the
# check, and so would prove nothing).
nirs = [m.nir for m in sprayed] + [
    with_key(f"2{70 + n % 20:02d}{n % 12 + 1:02d}13{n % 900 + 100:03d}{n % 997 + 1:03d}")
    for n in range(1000)
]
print(json.dumps({
    "cookie": settings.SESSION_COOKIE_NAME,
    "session": store.session_key,
    "victim": victim.nir,
    "nirs": nirs,
}))
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Site:
    base: str
    cookie: str
    session: str
    victim: str
    nirs: list[str]
    data: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    data = tmp_path_factory.mktemp("stuffing")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "ASSURE_ENV"}
        and not key.startswith("PYTEST_")
    }
    env.update(
        ASSURE_DATA_DIR=str(data / "data"),
        PYTHONPATH=str(REPO),
        ASSURE_TRUSTED_PROXY_COUNT="1",
        ASSURE_LOG_LEVEL="WARNING",
        # The API's own request rates (assure/api/throttling.py) are stricter than identity's
        # failure limits and would stop the attack first: raised here so that what is measured
        # is the identity limit, which the web form and the API share.
        ASSURE_API_RATE_AUTH="100000/60",
        ASSURE_API_RATE_ADDRESS="100000/60",
    )
    port = _free_port()
    log = (data / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "assure", "serve", "--port", str(port), "--no-worker"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert server.poll() is None, (data / "serve.log").read_text()
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "assure serve did not start"
            time.sleep(0.3)
        setup = subprocess.run(
            [sys.executable, "-c", SETUP, SECRET],
            cwd=REPO,
            env={**env, "DJANGO_SETTINGS_MODULE": "assure.settings"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert setup.returncode == 0, setup.stderr
        facts = json.loads(setup.stdout.strip().splitlines()[-1])
        yield Site(base, facts["cookie"], facts["session"], facts["victim"], facts["nirs"], data)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)  # the server and its gunicorn workers
        server.wait(timeout=30)
        log.close()


# --- Measuring another member's page while the attacker runs -----------------------------------


def _probe(site: Site) -> tuple[float, float]:
    """When the probe started (wall clock, comparable with the attacker's) and how long it took."""
    started, start = time.time(), time.perf_counter()
    response = requests.get(
        f"{site.base}/",
        cookies={site.cookie: site.session},
        headers={"X-Forwarded-For": "198.51.100.200"},
        timeout=60,
    )
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    assert "Prudence" in response.text  # her own page, signed in
    return started, elapsed


def _under_attack(site: Site, door: str, attempts: list[tuple[str, str, str]]):
    """The attacker's outcomes; the probe's median latency before the attack and once the limit
    stops it (the allowed failures before are real code checks, the budget the limits grant)."""
    _probe(site)  # warm up
    before = statistics.median(_probe(site)[1] for _ in range(PROBES_BEFORE))
    spec = site.data / f"attack-{time.monotonic_ns()}.json"
    spec.write_text(
        json.dumps({"base": site.base, "door": door, "threads": THREADS, "attempts": attempts})
    )
    attacker = subprocess.Popen(
        [sys.executable, "-m", "tests.security.stuffing", str(spec)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    probes: list[tuple[float, float]] = []
    deadline = time.monotonic() + 300
    while attacker.poll() is None:
        assert time.monotonic() < deadline, "the attack did not end"
        probes.append(_probe(site))
    out, err = attacker.communicate(timeout=60)
    assert attacker.returncode == 0, err
    report = json.loads(out)
    assert report["stopped_at"] is not None, report
    stopped = [elapsed for started, elapsed in probes if started >= report["stopped_at"]]
    assert len(stopped) >= 10, (len(probes), len(stopped))  # the attack ran on, long enough
    return Counter(report["outcomes"]), before, statistics.median(stopped)


@pytest.mark.parametrize("door", ["api", "web"])
def test_many_nirs_from_one_address_are_blocked_after_50_failures(site, door):
    address = f"203.0.113.{10 if door == 'api' else 20}"
    nirs = site.nirs[:ATTEMPTS] if door == "api" else site.nirs[ATTEMPTS : 2 * ATTEMPTS]
    outcomes, before, during = _under_attack(
        site, door, [(address, nir, "azerty123456") for nir in nirs]
    )
    assert sum(outcomes.values()) == ATTEMPTS
    # 50 failures are allowed in the window; the attempt that makes it 51 is answered "blocked"
    # and from then on no code is checked for this address, whoever asks at the same moment.
    assert outcomes["invalid"] == 50, outcomes
    assert outcomes["blocked"] == ATTEMPTS - 50, outcomes
    # Blocked means blocked: the right code of a real account is refused too, from there only.
    assert DOORS[door](site.base, address).try_login(site.victim, SECRET) == "blocked"
    assert DOORS[door](site.base, "192.0.2.77").try_login(site.victim, SECRET) == "passed"
    assert during < LATENCY_RATIO * before, (before, during)


@pytest.mark.parametrize("door", ["api", "web"])
def test_one_nir_from_many_addresses_is_locked_after_5_failures(site, door):
    victim = site.victim if door == "api" else site.nirs[-1]
    addresses = [f"198.18.{1 if door == 'api' else 2}.{i + 1}" for i in range(ATTEMPTS // 4)]
    # Each address tries 4 times: under its own limit, so only the NIR's lock can stop them.
    attempts = [(address, victim, "azerty123456") for address in addresses * 4]
    outcomes, before, during = _under_attack(site, door, attempts)
    # The fifth failure starts the lock. Attempts that arrived together with it were already
    # being checked and are answered "invalid": at most one per other concurrent request.
    assert 4 <= outcomes["invalid"] <= 4 + THREADS - 1, outcomes
    assert outcomes["locked"] == ATTEMPTS - outcomes["invalid"], outcomes
    assert outcomes["blocked"] == 0, outcomes
    # Locked means locked: the right code is refused too, from a fresh address.
    code = SECRET if door == "api" else "azerty123456"
    assert DOORS[door](site.base, "192.0.2.99").try_login(victim, code) == "locked"
    assert during < LATENCY_RATIO * before, (before, during)
