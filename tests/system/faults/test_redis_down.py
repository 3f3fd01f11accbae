"""Redis down: members still sign in and read, sign-in throttling goes on in the database, and
/readyz says "degraded" with HTTP 200 (docs/operations.md, "Faults and what holds")."""

from __future__ import annotations

import pytest
import requests

from tests.system.faults.conftest import faultctl, free_port, wait_healthy, wait_until

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.redis]


def _login(base: str, member: dict, code: str) -> tuple[requests.Session, requests.Response]:
    browser = requests.Session()
    browser.cookies.set(member["device_cookie_name"], member["device_cookie"])
    assert browser.get(f"{base}/connexion/", timeout=10).status_code == 200
    answer = browser.post(
        f"{base}/connexion/",
        data={
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            "nir": member["nir"],
            "secret_code": code,
        },
        headers={"Referer": f"{base}/connexion/"},
        timeout=10,
        allow_redirects=False,
    )
    return browser, answer


def test_redis_down_members_sign_in_and_read(fault_env, private_redis, processes):
    env = dict(fault_env, REDIS_URL=private_redis.url)
    reader = faultctl(env, "member", 2)
    guessed = faultctl(env, "member", 3)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = processes(env, "serve", "--port", str(port), "--workers", "1", "--no-worker")
    wait_healthy(base, server)
    assert requests.get(f"{base}/readyz", timeout=10).json()["status"] == "ready"

    private_redis.stop()

    ready = requests.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["queue"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True

    browser, answer = _login(base, reader, reader["code"])
    assert answer.status_code == 302, answer.text[-2000:]
    assert answer.headers["Location"] == "/"
    home = browser.get(f"{base}/", timeout=10)
    assert home.status_code == 200
    assert "Bonjour Camille" in home.text
    assert browser.get(f"{base}/mes-paiements/", timeout=10).status_code == 200

    # Throttling still holds, counted in the database: five wrong codes lock the account, and
    # then even the right code is refused.
    for _ in range(5):
        _browser, wrong = _login(base, guessed, "pas-le-bon-code")
        assert wrong.status_code == 200
    _browser, locked = _login(base, guessed, guessed["code"])
    assert locked.status_code == 200, locked.headers
    assert "Vous pourrez réessayer à partir du" in locked.text, locked.text[-3000:]

    private_redis.start_on_same_port()
    wait_until(
        lambda: requests.get(f"{base}/readyz", timeout=10).json()["status"] == "ready",
        30,
        "/readyz to be ready again",
    )
    assert browser.get(f"{base}/", timeout=10).status_code == 200  # still signed in
    assert "ERROR" not in server.output().replace("ERROR gunicorn", ""), server.output()[-3000:]
