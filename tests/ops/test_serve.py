"""`assure serve` and `assure worker`, in-process: command lines, the supervisor, the sweeper.

The real processes (gunicorn, the worker, signals) are exercised in tests/system/test_serve.py.
"""

from __future__ import annotations

import signal
import socket
import sys
import types

import pytest
from django.core.management import CommandError, call_command
from django_tasks import TaskResultStatus

from assure.ops import runtime
from assure.ops.tasks import worker_probe

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


# --- Command lines -----------------------------------------------------------------------------


def test_gunicorn_runs_the_wsgi_app_with_the_packaged_config():
    argv = runtime.gunicorn_argv(host="192.0.2.10", port=8080, workers=3)
    assert argv[:3] == [sys.executable, "-m", "gunicorn"]
    assert argv[argv.index("--config") + 1] == "python:assure.ops.gunicorn_conf"
    assert argv[argv.index("--bind") + 1] == "192.0.2.10:8080"
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[-1] == "assure.wsgi:application"


def test_gunicorn_bind_brackets_ipv6_and_keeps_the_default_worker_count():
    argv = runtime.gunicorn_argv(host="::1", port=8000, workers=None)
    assert argv[argv.index("--bind") + 1] == "[::1]:8000"
    assert "--workers" not in argv


def test_worker_runs_through_the_assure_entry_point():
    assert runtime.worker_argv() == [sys.executable, "-m", "assure", "worker"]


def test_gunicorn_config_keeps_query_strings_and_referers_out_of_the_access_log():
    from assure.ops import gunicorn_conf

    assert gunicorn_conf.worker_class == "gthread"
    assert "%(U)s" in gunicorn_conf.access_log_format
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%({referer}i)s"):
        assert atom not in gunicorn_conf.access_log_format
    assert gunicorn_conf.graceful_timeout < runtime.STOP_GRACE_SECONDS
    handlers = gunicorn_conf.logconfig_dict["handlers"]
    assert all(h["filters"] == ["mask_identifiers"] for h in handlers.values())


def test_serve_refuses_nonsense_options():
    with pytest.raises(CommandError, match="--workers"):
        call_command("serve", workers=0)
    with pytest.raises(CommandError, match="--port"):
        call_command("serve", port=70000)


def test_serve_refuses_an_address_already_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert runtime.address_in_use("127.0.0.1", port)
        with pytest.raises(CommandError, match="already in use"):
            call_command("serve", port=port)
    assert not runtime.address_in_use("127.0.0.1", port)


# --- The supervisor -------------------------------------------------------------------------------


def _child(name: str, code: str) -> runtime.Child:
    return runtime.Child(name, [sys.executable, "-c", code])


WAITS_FOR_SIGTERM = "import signal; signal.sigwait({signal.SIGTERM})"


def test_supervisor_stops_the_others_and_fails_when_a_child_dies():
    survivor = _child("web", "import time; time.sleep(60)")
    supervisor = runtime.Supervisor([survivor, _child("worker", "raise SystemExit(3)")], grace=30)
    assert supervisor.run() == 1
    assert supervisor.failed is not None
    assert supervisor.failed.name == "worker"
    assert survivor.process is not None
    assert survivor.process.returncode == -signal.SIGTERM


def test_supervisor_kills_a_child_that_ignores_sigterm_after_the_grace_period():
    stubborn = _child(
        "web", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    )
    supervisor = runtime.Supervisor([stubborn, _child("worker", "raise SystemExit(0)")], grace=0.5)
    assert supervisor.run() == 1
    assert stubborn.process is not None
    assert stubborn.process.returncode == -signal.SIGKILL


def test_supervisor_restores_the_signal_handlers_it_replaced():
    before = signal.getsignal(signal.SIGTERM)
    runtime.Supervisor([_child("worker", "raise SystemExit(2)")], grace=5).run()
    assert signal.getsignal(signal.SIGTERM) is before


# --- The sweeper ----------------------------------------------------------------------------------


@pytest.fixture
def fake_notifications(monkeypatch):
    module = types.ModuleType("assure.notifications.services")
    monkeypatch.setitem(sys.modules, "assure.notifications.services", module)
    return module


def test_sweep_is_skipped_while_the_outbox_offers_none(fake_notifications):
    assert runtime.outbox_sweep_once() is None


def test_sweep_calls_the_outbox_and_reports_its_count(fake_notifications):
    calls = []
    fake_notifications.outbox_dispatch_due = lambda: calls.append(1) or 2  # type: ignore[attr-defined]
    assert runtime.outbox_sweep_once() == 2
    assert calls == [1]


def test_a_failing_sweep_is_logged_and_does_not_stop_the_worker(fake_notifications, caplog):
    def broken() -> int:
        raise RuntimeError("database gone for jeanne@example.fr")

    fake_notifications.outbox_dispatch_due = broken  # type: ignore[attr-defined]
    assert runtime.outbox_sweep_once() is None
    assert "outbox sweep failed" in caplog.text


def test_sweeper_thread_sweeps_at_once_and_stops_promptly(fake_notifications):
    swept = []
    fake_notifications.outbox_dispatch_due = lambda: swept.append(1) or 0  # type: ignore[attr-defined]
    sweeper = runtime.Sweeper(interval=3600)
    sweeper.start()
    sweeper.stop(timeout=10)
    assert not sweeper.is_alive()
    assert swept == [1]


# --- The worker -----------------------------------------------------------------------------------


def test_worker_refuses_a_backend_without_workers(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with pytest.raises(CommandError, match="without a worker"):
        call_command("worker", burst=True)


def test_backend_kind_follows_the_settings(settings):
    settings.TASKS = DB_TASKS
    assert runtime.task_backend_kind() == "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    assert runtime.task_backend_kind() == "rq"


@pytest.mark.django_db(transaction=True)
def test_database_worker_runs_waiting_tasks_and_sweeps(settings, fake_notifications):
    settings.TASKS = DB_TASKS
    swept = []
    fake_notifications.outbox_dispatch_due = lambda: swept.append(1) or 0  # type: ignore[attr-defined]
    result = worker_probe.enqueue("bonjour")
    assert result.status == TaskResultStatus.READY
    before = signal.getsignal(signal.SIGTERM)

    call_command("worker", burst=True)

    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == "bonjour"
    assert swept
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.django_db(transaction=True)
def test_worker_check_fails_when_no_worker_takes_the_probe(settings):
    settings.TASKS = DB_TASKS
    with pytest.raises(CommandError, match="No worker is taking tasks"):
        call_command("worker", check=True, timeout=0.3)


def test_gunicorn_workers_start_with_the_loaded_application_frozen():
    import gc
    import sys

    from assure.ops import gunicorn_conf

    gunicorn_conf.when_ready(None)
    assert "assure.api.routers.documents" in sys.modules  # the views are imported in the master
    before = gc.get_freeze_count()
    try:
        gunicorn_conf.pre_fork(None, None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
