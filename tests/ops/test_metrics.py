"""/metrics: protected, Prometheus text format, counters that move, labels without identifiers,
and the multiprocess files summed across processes (two processes, then a real gunicorn)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path
from django.utils import timezone
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from assure.core.models import FeedRun
from assure.notifications.models import OutboxMessage
from assure.ops import gunicorn_conf, metrics
from tests.identity.helpers import SECRET, active_account

REPO = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-the-tests-0123456789abcdef"
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_token")]


@pytest.fixture
def _token():
    with override_settings(METRICS_TOKEN=TOKEN):
        yield


def _boom(request):
    raise OperationalError("connection refused")


def _ok(request):
    return HttpResponse("ok")


# Used as ROOT_URLCONF by the database-error tests.
urlpatterns = [
    path("boom", _boom, name="boom"),
    path("ok", _ok, name="ok"),
    path("", include("assure.ops.urls")),
]


def scrape(client: Client | None = None) -> dict[tuple[str, frozenset], float]:
    response = (client or Client()).get("/metrics", **AUTH)
    assert response.status_code == 200, response.status_code
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- Protection -----------------------------------------------------------------------------------


def test_metrics_do_not_exist_while_no_token_is_configured(client):
    with override_settings(METRICS_TOKEN=""):
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
        assert client.get("/metrics", **AUTH).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
    ],
)
def test_a_missing_or_wrong_token_is_refused(client, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"assure_" not in response.content


def test_the_scrape_is_prometheus_text_and_never_cached(client):
    response = client.get("/metrics", **AUTH)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {
        "assure_http_requests",
        "assure_http_request_duration_seconds",
        "assure_logins",
        "assure_database_up",
        "assure_outbox_messages",
        "assure_outbox_oldest_age_seconds",
    } <= names
    assert client.post("/metrics", **AUTH).status_code == 405


def test_the_scraper_is_not_redirected_to_https(client):
    """Prometheus scrapes each machine on its private address, over plain HTTP."""
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert client.get("/metrics", **AUTH).status_code == 200
        assert client.get("/mes-paiements/").status_code == 301


# --- Requests -------------------------------------------------------------------------------------


def test_requests_are_counted_by_route_name_method_and_status_class(client):
    before = scrape()
    client.get("/mes-paiements/4242/")
    client.get("/mes-paiements/4343/")
    client.get("/une-page-qui-n-existe-pas-5151/")
    client.generic("BREW", "/")
    after = scrape()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    # Anonymous: the detail page redirects to the sign-in page.
    assert (
        delta("assure_http_requests_total", route="payments:detail", method="GET", status="3xx")
        == 2
    )
    assert (
        delta("assure_http_request_duration_seconds_count", route="payments:detail", method="GET")
        == 2
    )
    assert delta("assure_http_requests_total", route="unmatched", method="GET", status="4xx") == 1
    brewed = sum(
        delta("assure_http_requests_total", route="payments:home", method="other", status=status)
        for status in ("2xx", "3xx", "4xx", "5xx")
    )
    assert brewed == 1
    assert not any(("method", "BREW") in labels for _, labels in after)


def test_labels_carry_no_identifier(client):
    account = active_account()
    nir = account.member.nir
    client.post("/connexion/", {"nir": nir, "secret_code": "pas le bon code du tout"})
    client.get(f"/mes-paiements/{nir[:9]}/")
    client.get(f"/api/v1/statements/{nir[:9]}")
    text = client.get("/metrics", **AUTH).content.decode()
    assert nir[:9] not in text
    assert nir not in text
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert "identity:login" in routes
    for route in routes:
        assert re.fullmatch(r"[a-z][a-z0-9_.-]*(:[a-z0-9_.-]+)*", route), route
        assert not re.search(r"\d{4,}", route), route


# --- Logins ---------------------------------------------------------------------------------------


def test_logins_are_counted_by_outcome(client):
    account = active_account()
    nir = account.member.nir
    before = scrape()
    response = client.post("/connexion/", {"nir": nir, "secret_code": SECRET})
    assert response.status_code == 302
    for _ in range(settings.IDENTITY_LOCK_AFTER_FAILURES - 1):
        client.post("/connexion/", {"nir": nir, "secret_code": "un mauvais code secret"})
    # The failure that reaches the limit locks the account, and so does every try while locked.
    client.post("/connexion/", {"nir": nir, "secret_code": "un mauvais code secret"})
    client.post("/connexion/", {"nir": nir, "secret_code": SECRET})
    after = scrape()

    def delta(result):
        return value(after, "assure_logins_total", result=result) - value(
            before, "assure_logins_total", result=result
        )

    assert delta("success") == 1
    assert delta("failure") == settings.IDENTITY_LOCK_AFTER_FAILURES - 1
    assert delta("locked") == 2


def test_the_api_login_is_counted_too(client):
    account = active_account()
    before = scrape()
    response = client.post(
        "/api/v1/auth/login",
        {"nir": account.member.nir, "secret_code": "un mauvais code secret"},
        content_type="application/json",
    )
    assert response.status_code in {400, 401}
    after = scrape()
    assert (
        value(after, "assure_logins_total", result="failure")
        == value(before, "assure_logins_total", result="failure") + 1
    )


# --- Database errors ------------------------------------------------------------------------------


@override_settings(ROOT_URLCONF=__name__)
def test_a_view_meeting_an_unreachable_database_is_counted_once(client):
    client.raise_request_exception = False
    before = scrape()
    response = client.get("/boom")
    assert response.status_code in {500, 503}
    after = scrape()
    labels = {"error": "OperationalError"}
    assert value(after, "assure_database_errors_total", **labels) == (
        value(before, "assure_database_errors_total", **labels) + 1
    )


class _FailingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/ok":
            raise OperationalError("server closed the connection unexpectedly")
        return self.get_response(request)


def test_an_error_outside_the_view_is_counted_too(client):
    client.raise_request_exception = False
    before = scrape()
    middleware = [*settings.MIDDLEWARE, f"{__name__}._FailingMiddleware"]
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=middleware):
        assert client.get("/ok").status_code in {500, 503}
    after = scrape()
    labels = {"error": "OperationalError"}
    assert value(after, "assure_database_errors_total", **labels) == (
        value(before, "assure_database_errors_total", **labels) + 1
    )


def test_a_deadlock_is_not_a_connection_error():
    class Deadlock(Exception):
        sqlstate = "40P01"

    error = OperationalError("deadlock detected")
    error.__cause__ = Deadlock()
    labels = {"error": "OperationalError"}
    before = value(scrape(), "assure_database_errors_total", **labels)
    metrics.database_error_observe(error)
    metrics.database_error_observe(ValueError("not a database error"))
    assert value(scrape(), "assure_database_errors_total", **labels) == before


# --- Figures read at scrape time ------------------------------------------------------------------


def test_outbox_backlog_and_oldest_age():
    created = timezone.now() - dt.timedelta(minutes=10)
    for number, status in enumerate(["pending", "pending", "sending", "failed", "sent"]):
        message = OutboxMessage.objects.create(
            channel="email", idempotency_key=f"metrics-{number}", template="t", status=status
        )
        OutboxMessage.objects.filter(pk=message.pk).update(created_at=created)
    samples = scrape()
    assert value(samples, "assure_outbox_messages", status="pending") == 2
    assert value(samples, "assure_outbox_messages", status="sending") == 1
    assert value(samples, "assure_outbox_messages", status="failed") == 1
    assert 600 <= value(samples, "assure_outbox_oldest_age_seconds") < 700


def test_feed_lines_by_feed_and_result():
    finished = timezone.now()
    FeedRun.objects.create(
        feed="members",
        source="cli",
        created=3,
        updated=2,
        rejected=1,
        status="finished",
        finished_at=finished,
    )
    FeedRun.objects.create(feed="members", source="api", created=4, unchanged=7, status="failed")
    FeedRun.objects.create(feed="statements", source="api", created=9, status="running")
    samples = scrape()
    assert value(samples, "assure_feed_lines_total", feed="members", result="created") == 7
    assert value(samples, "assure_feed_lines_total", feed="members", result="updated") == 2
    assert value(samples, "assure_feed_lines_total", feed="members", result="unchanged") == 7
    assert value(samples, "assure_feed_lines_total", feed="members", result="rejected") == 1
    assert value(samples, "assure_feed_lines_total", feed="statements", result="created") == 9
    assert value(
        samples, "assure_feed_last_success_timestamp_seconds", feed="members"
    ) == pytest.approx(finished.timestamp())
    assert (
        "assure_feed_last_success_timestamp_seconds",
        frozenset({("feed", "statements")}),
    ) not in samples


def test_task_queue_depth(settings):
    from assure.ops.tasks import worker_probe

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    before = value(scrape(), "assure_task_queue_depth", queue="default")
    worker_probe.enqueue("one")
    worker_probe.enqueue("two")
    assert value(scrape(), "assure_task_queue_depth", queue="default") == before + 2


def test_database_up_is_reported_per_alias():
    assert value(scrape(), "assure_database_up", database="default") == 1


# --- Several processes ----------------------------------------------------------------------------

COUNT_IN_A_PROCESS = """
import os, sys, django
django.setup()
from assure.ops import metrics
metrics.HTTP_REQUESTS.labels(route="core:home", method="GET", status="2xx").inc(int(sys.argv[1]))
metrics.HTTP_DURATION.labels(route="core:home", method="GET").observe(0.2)
print(os.getpid())
"""


def _child_env(tmp_path: Path, metrics_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="assure.settings",
        ASSURE_ENV="test",
        ASSURE_DATA_DIR=str(tmp_path / "data"),
        ASSURE_METRICS_DIR=str(metrics_dir),
        PYTHONPATH=str(REPO),
    )
    return env


def _sum(metrics_dir: Path, name: str, **labels) -> float:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics_dir))
    return sum(
        sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name and sample.labels == labels
    )


@pytest.mark.django_db(False)
def test_counts_of_two_processes_are_summed_and_survive_their_end(tmp_path):
    metrics_dir = tmp_path / "metrics"
    env = _child_env(tmp_path, metrics_dir)
    pids = [
        int(
            subprocess.run(
                [sys.executable, "-c", COUNT_IN_A_PROCESS, str(n)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout.strip()
        )
        for n in (3, 4)
    ]
    labels = {"route": "core:home", "method": "GET", "status": "2xx"}
    assert sorted(p.name for p in metrics_dir.glob("counter_*.db")) == sorted(
        f"counter_{pid}.db" for pid in pids
    )
    assert _sum(metrics_dir, "assure_http_requests_total", **labels) == 7
    histogram = {"route": "core:home", "method": "GET"}
    assert _sum(metrics_dir, "assure_http_request_duration_seconds_count", **histogram) == 2

    # gunicorn's master folds each ended worker into its archive: same totals, fewer files.
    for pid in pids:
        metrics.metrics_process_dead(pid, archive_owner=os.getpid(), path=metrics_dir)
    assert sorted(p.name for p in metrics_dir.glob("*.db")) == [
        f"counter_archive-{os.getpid()}.db",
        f"histogram_archive-{os.getpid()}.db",
    ]
    assert _sum(metrics_dir, "assure_http_requests_total", **labels) == 7
    assert _sum(metrics_dir, "assure_http_request_duration_seconds_count", **histogram) == 2
    assert (
        _sum(metrics_dir, "assure_http_request_duration_seconds_bucket", le="0.25", **histogram)
        == 2
    )

    # A new start removes what ended processes left, and keeps the files of live ones.
    dead_archive = metrics_dir / f"counter_archive-{pids[0]}.db"
    dead_archive.write_bytes((metrics_dir / f"counter_archive-{os.getpid()}.db").read_bytes())
    assert metrics.metrics_dir_prepare(metrics_dir) == 1
    assert not dead_archive.exists()
    assert _sum(metrics_dir, "assure_http_requests_total", **labels) == 7


def test_gunicorn_config_hooks_clean_the_directory_and_archive_workers():
    assert callable(gunicorn_conf.on_starting)
    assert callable(gunicorn_conf.child_exit)
    namespace: dict[str, object] = {}
    exec((REPO / "deploy" / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102 - our file
    assert namespace["child_exit"] is gunicorn_conf.child_exit
    assert namespace["on_starting"] is gunicorn_conf.on_starting


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback only
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read().decode()


@pytest.mark.system
@pytest.mark.django_db(False)
def test_gunicorn_with_two_workers_reports_every_request_once(tmp_path):
    """Requests spread over two workers; one scrape counts them all, even after a worker is
    replaced (its counts folded into the master's archive by the child_exit hook)."""
    metrics_dir = tmp_path / "metrics"
    env = _child_env(tmp_path, metrics_dir) | {"ASSURE_METRICS_TOKEN": TOKEN}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:assure.ops.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "1",
            "--keep-alive",
            "0",
            "assure.wsgi:application",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

        def healthz_count() -> float:
            _, text = _get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name == "assure_http_requests_total" and sample.labels == {
                        "route": "healthz",
                        "method": "GET",
                        "status": "2xx",
                    }:
                        return sample.value
            return 0.0

        def writers() -> set[str]:
            # One file per worker that has counted something. The master may hold one too (the
            # application is loaded in it before the workers are forked), where nothing is counted.
            files = {p.name for p in metrics_dir.glob("counter_*.db")}
            return files - {f"counter_{server.pid}.db"}

        base_count = healthz_count()  # the start-up probes
        # Requests in bursts of concurrent ones until both workers have served some: one after
        # the other, they may all go to whichever worker is back waiting first.
        sent = 0
        deadline = time.monotonic() + 30
        with ThreadPoolExecutor(max_workers=8) as pool:
            while len(writers()) < 2:
                assert time.monotonic() < deadline, f"one worker served everything: {writers()}"
                list(pool.map(lambda _: _get(f"{base}/healthz"), range(16)))
                sent += 16
        assert healthz_count() == base_count + sent  # every worker's counts, summed once

        # Replace one worker: what it counted stays in the total.
        worker_pid = int(next(iter(writers())).removeprefix("counter_").removesuffix(".db"))
        os.kill(worker_pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while (metrics_dir / f"counter_{worker_pid}.db").exists():
            assert time.monotonic() < deadline, "the ended worker's file was not folded"
            time.sleep(0.2)
        assert (metrics_dir / f"counter_archive-{server.pid}.db").exists()
        assert healthz_count() == base_count + sent
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
