import pytest


@pytest.mark.django_db
def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_cache_and_queue(client):
    response = client.get("/readyz")
    body = response.json()
    assert {"database", "cache", "queue"} <= set(body["checks"])
    assert response.status_code == 200
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True


@pytest.mark.django_db
def test_readyz_shows_the_outbox_backlog_without_personal_data(client):
    body = client.get("/readyz").json()
    outbox = body["checks"]["outbox"]
    assert outbox["ok"] is True
    assert {"pending", "failed", "oldest_pending_age_seconds"} <= set(outbox)
    assert all(isinstance(value, (bool, int)) for value in outbox.values())


@pytest.mark.django_db
def test_readyz_answers_503_when_a_check_fails(client, settings):
    settings.READINESS_FIGURES = {"broken": "tests.core.test_probes.broken_figures"}
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broken"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"]["ok"] is True


def broken_figures() -> dict:
    raise ConnectionError("backend unreachable")
