"""The outbox against a failing SMTP relay and a worker killed in the middle of a send
(docs/operations.md, "Faults and what holds")."""

from __future__ import annotations

import time

import pytest
import requests

from tests.system.faults.conftest import faultctl, free_port, wait_healthy, wait_until

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.redis]


def _outbox(private_postgres, url: str) -> dict[str, tuple[str, int, str]]:
    database = url.rsplit("/", 1)[1]
    rows = private_postgres.query(
        database,
        "SELECT idempotency_key, status, attempts, last_error FROM notifications_outboxmessage",
    )
    return {key: (status, attempts, error) for key, status, attempts, error in rows}


def _worker_env(fault_env, private_redis, smtp_server, **extra: str) -> dict[str, str]:
    return dict(
        fault_env,
        REDIS_URL=private_redis.url,
        EMAIL_URL=smtp_server.url,
        ASSURE_OUTBOX_RETRY_BASE_SECONDS="1",
        ASSURE_OUTBOX_LEASE_SECONDS="4",
        **extra,
    )


@pytest.mark.parametrize("killed_at", ["rcpt", "accept"])
def test_worker_killed_mid_send(
    killed_at, fault_env, private_postgres, private_redis, smtp_server, processes
):
    """rcpt: killed before the relay took the message -> sent exactly once after the restart.
    accept: killed after the relay took it, before assure recorded it -> sent again, with the
    same Message-ID (exactly-once is impossible over SMTP; duplicates are recognisable)."""
    env = _worker_env(fault_env, private_redis, smtp_server)
    smtp_server.handler.hold = killed_at
    smtp_server.handler.hold_seconds = 30.0
    smtp_server.start()
    worker = processes(env, "worker", "--sweep-interval", "1")
    faultctl(env, "emails", 1, f"kill-{killed_at}")
    assert smtp_server.handler.holding.wait(60), worker.output()
    worker.kill_all()  # the worker and its work horse, in the middle of the SMTP transaction
    status, attempts, _error = _outbox(private_postgres, env["DATABASE_URL"])[f"kill-{killed_at}-0"]
    assert (status, attempts) == ("sending", 1)

    restarted = processes(env, "worker", "--sweep-interval", "1")
    wait_until(
        lambda: _outbox(private_postgres, env["DATABASE_URL"])[f"kill-{killed_at}-0"][0] == "sent",
        60,
        "the message to be sent after the restart",
    )
    status, attempts, _error = _outbox(private_postgres, env["DATABASE_URL"])[f"kill-{killed_at}-0"]
    assert attempts == 2, restarted.output()
    ids = smtp_server.message_ids()
    if killed_at == "rcpt":
        assert len(ids) == 1, ids
    else:
        assert len(ids) == 2, ids
        assert ids[0] == ids[1], ids
        first, second = smtp_server.handler.received
        assert first.data == second.data  # the same message, byte for byte, Date included
    time.sleep(2.0)  # no later resend either
    assert len(smtp_server.message_ids()) == len(ids)


def test_smtp_down_then_back_every_email_goes_out_once(
    fault_env, private_postgres, private_redis, smtp_server, processes
):
    env = _worker_env(fault_env, private_redis, smtp_server)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = processes(env, "serve", "--port", str(port), "--workers", "1", "--no-worker")
    worker = processes(env, "worker", "--sweep-interval", "1")
    wait_healthy(base, server)
    keys = faultctl(env, "emails", 5, "smtp-down")
    assert len(keys) == 5

    # The relay is down: every message is tried, fails, and waits for its next attempt.
    wait_until(
        lambda: all(
            status == "pending" and attempts >= 2 and error
            for status, attempts, error in _outbox(private_postgres, env["DATABASE_URL"]).values()
        ),
        60,
        "every message to be retried",
    )
    ready = requests.get(f"{base}/readyz", timeout=10).json()
    assert ready["status"] == "ready"  # the web serves; the backlog is what operators watch
    assert ready["checks"]["outbox"]["pending"] + ready["checks"]["outbox"]["sending"] == 5
    assert ready["checks"]["outbox"]["oldest_pending_age_seconds"] >= 1

    smtp_server.start()
    wait_until(
        lambda: all(
            status == "sent"
            for status, _a, _e in _outbox(private_postgres, env["DATABASE_URL"]).values()
        ),
        60,
        "every message to go out once the relay is back",
    )
    assert sorted(item.to[0] for item in smtp_server.handler.received) == sorted(
        f"destinataire{n}@example.org" for n in range(5)
    ), worker.output()[-2000:]
    assert len(set(smtp_server.message_ids())) == 5
    outbox = requests.get(f"{base}/readyz", timeout=10).json()["checks"]["outbox"]
    assert (outbox["pending"], outbox["sending"], outbox["failed"]) == (0, 0, 0)
