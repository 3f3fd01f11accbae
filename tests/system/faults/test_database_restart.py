"""PostgreSQL restarted under load: while it is down every request fails fast with the 503 page
(HTML) or the `unavailable` problem (API), with Retry-After; when it is back, the same processes
serve again (no restart of assure, the same PIDs)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests

from tests.system.faults.conftest import (
    children,
    cmdline,
    faultctl,
    free_port,
    wait_healthy,
    wait_until,
)

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.redis]

FAIL_FAST_SECONDS = 3.0


def _long_lived(supervisor: int) -> dict[int, str]:
    """The supervisor's children (gunicorn's master, the task worker) and gunicorn's workers;
    not RQ's work horses, forked for one task each."""
    found = {}
    for child in children(supervisor):
        found[child] = cmdline(child)
        if "gunicorn" in found[child]:
            found.update({pid: cmdline(pid) for pid in children(child)})
    return found


def _sign_in(base: str, member: dict) -> requests.Session:
    browser = requests.Session()
    browser.cookies.set(member["device_cookie_name"], member["device_cookie"])
    page = browser.get(f"{base}/connexion/", timeout=10)
    assert page.status_code == 200
    answer = browser.post(
        f"{base}/connexion/",
        data={
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            "nir": member["nir"],
            "secret_code": member["code"],
        },
        headers={"Referer": f"{base}/connexion/"},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:2000]
    assert answer.headers["Location"] == "/", answer.headers["Location"]
    return browser


class Load(threading.Thread):
    """Requests in a loop, bounded in count and time, recording status and duration."""

    def __init__(self, call, limit: int = 600, seconds: float = 90.0) -> None:
        super().__init__(daemon=True)
        self.call = call
        self.limit = limit
        self.seconds = seconds
        self.results: list[tuple[float, int | str, float]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        while (
            not self.stop_event.is_set()
            and len(self.results) < self.limit
            and time.monotonic() < deadline
        ):
            started = time.monotonic()
            try:
                status: int | str = self.call().status_code
            except requests.RequestException as exc:
                status = exc.__class__.__name__
            self.results.append((started, status, time.monotonic() - started))
            time.sleep(0.05)


def test_postgresql_restart_under_load(
    fault_env, private_postgres, private_redis, processes, tmp_path
):
    env = dict(fault_env, REDIS_URL=private_redis.url)
    member = faultctl(env, "member", 1)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = processes(env, "serve", "--port", str(port), "--workers", "2")
    wait_healthy(base, server)
    # gunicorn's master, its two workers and the task worker (a task's work horse, forked now and
    # then, is not counted: it may come and go while the workers are still being forked).
    wait_until(
        lambda: (
            sum("gunicorn" in line for line in _long_lived(server.pid).values()) == 3
            and any(
                "worker" in line and "gunicorn" not in line
                for line in _long_lived(server.pid).values()
            )
        ),
        30,
        "gunicorn workers and the worker",
    )
    pids_before = _long_lived(server.pid)
    assert sum("gunicorn" in line for line in pids_before.values()) == 3, pids_before

    browser = _sign_in(base, member)
    page = browser.get(f"{base}/", timeout=10)
    assert page.status_code == 200, server.output()[-4000:]
    assert "Bonjour Camille" in page.text, page.text[-3000:]  # the member's own home page

    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {member['api_token']}"
    assert api.get(f"{base}/api/v1/sessions", timeout=10).status_code == 401

    loads = [
        Load(lambda: browser.get(f"{base}/", timeout=10)),
        Load(lambda: api.get(f"{base}/api/v1/sessions", timeout=10)),
    ]
    for load in loads:
        load.start()
    time.sleep(1.0)

    private_postgres.stop("fast")
    down_at = time.monotonic()
    try:
        # While the database is down: the HTML page and the API problem, fast, with Retry-After.
        for _ in range(3):
            started = time.monotonic()
            page = browser.get(f"{base}/", timeout=10)
            assert time.monotonic() - started < FAIL_FAST_SECONDS
            assert page.status_code == 503, page.text[:500]
            assert page.headers["Retry-After"].isdigit()
            assert page.headers["Content-Type"].startswith("text/html")
            assert "Service momentanément indisponible" in page.text
            assert '<html lang="fr"' in page.text
            assert "<h1" in page.text

            started = time.monotonic()
            problem = api.get(f"{base}/api/v1/sessions", timeout=10)
            assert time.monotonic() - started < FAIL_FAST_SECONDS
            assert problem.status_code == 503
            assert problem.headers["Content-Type"] == "application/problem+json"
            assert problem.headers["Retry-After"].isdigit()
            assert problem.json()["code"] == "unavailable"
            assert problem.json()["status"] == 503

        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert ready.json()["checks"]["database"]["ok"] is False
        # Long enough for the background loads to meet the outage whatever the machine's pace.
        time.sleep(3.0)
    finally:
        up_at = time.monotonic()  # from here on, requests may meet the database again
        private_postgres.start()

    # Back without restarting anything: the member reads the page again, the API answers 401.
    wait_until(
        lambda: browser.get(f"{base}/", timeout=10).status_code == 200,
        30,
        "the member's page to come back",
    )
    wait_until(
        lambda: api.get(f"{base}/api/v1/sessions", timeout=10).status_code == 401, 30, "the API"
    )
    assert requests.get(f"{base}/readyz", timeout=10).json()["status"] == "ready"
    for load in loads:
        load.stop_event.set()
        load.join(timeout=30)

    pids_after = _long_lived(server.pid)
    assert pids_after == pids_before, (pids_before, pids_after, server.output()[-3000:])

    for load in loads:
        statuses = Counter(status for _at, status, _took in load.results)
        # Nothing but answers: no 500, no dropped connection, whatever the moment.
        assert set(statuses) <= {200, 401, 503}, statuses
        assert statuses[503] >= 1, statuses
        during = [(status, took) for at, status, took in load.results if down_at + 0.5 < at < up_at]
        assert during, "the load ran while the database was down"
        assert all(status == 503 for status, _took in during), during
        assert max(took for _status, took in during) < FAIL_FAST_SECONDS, during
