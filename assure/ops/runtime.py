"""The processes that run assure: the web server and the task worker (`serve`, `worker`).

`assure serve` is a small supervisor: gunicorn and one worker run as its children, signals are
passed on to them, and when one of them dies the other is stopped so that a service manager
(systemd, a container runtime) sees the failure and restarts the whole instead of half of it.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 30.0
# How long the supervisor lets a child finish its work after SIGTERM before it kills it: above
# gunicorn's graceful_timeout (20 s), below systemd's default TimeoutStopSec (90 s).
STOP_GRACE_SECONDS = 45.0

BackendKind = Literal["database", "rq"]


class RuntimeConfigurationError(Exception):
    """The configured task backend has no worker (the immediate backend of the tests, say)."""


def task_backend_kind() -> BackendKind:
    backend = str(settings.TASKS["default"]["BACKEND"])
    if backend.startswith("django_tasks_db."):
        return "database"
    if backend.startswith("django_tasks_rq."):
        return "rq"
    raise RuntimeConfigurationError(
        f"The task backend {backend} runs tasks without a worker: nothing to start."
    )


def task_queue_names() -> list[str]:
    return list(settings.TASKS["default"].get("QUEUES") or ["default"])


# --- The outbox sweeper ---------------------------------------------------------------------------


def _outbox_dispatch_due() -> Callable[[], Any] | None:
    """The notifications app's sweep, looked up on each call so a worker never needs it to exist."""
    try:
        services = importlib.import_module("assure.notifications.services")
    except ImportError:
        return None
    function = getattr(services, "outbox_dispatch_due", None)
    return function if callable(function) else None


def outbox_sweep_once() -> int | None:
    """Re-enqueues outbox messages whose task was lost; None when the outbox offers no sweep.

    A failure is logged and swallowed: the next sweep tries again, and the worker keeps running
    the tasks that do not depend on it.
    """
    dispatch = _outbox_dispatch_due()
    if dispatch is None:
        return None
    try:
        count = dispatch()
    except Exception:
        logger.exception("outbox sweep failed; it runs again in %.0f s", SWEEP_INTERVAL_SECONDS)
        return None
    if count:
        logger.info("outbox sweep re-enqueued %s message(s)", count)
    return int(count or 0)


class Sweeper(threading.Thread):
    """Calls the outbox sweep now and every `interval` seconds until stopped."""

    def __init__(self, interval: float = SWEEP_INTERVAL_SECONDS) -> None:
        super().__init__(name="outbox-sweeper", daemon=True)
        self.interval = interval
        self._stop_requested = threading.Event()

    def run(self) -> None:
        while not self._stop_requested.is_set():
            try:
                outbox_sweep_once()
            finally:
                # The thread's own connection is closed between sweeps: one left open would
                # break every later sweep after a database restart, and pin a server slot.
                connections.close_all()
            self._stop_requested.wait(self.interval)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop_requested.set()
        if self.is_alive():
            self.join(timeout)


# --- The worker -----------------------------------------------------------------------------------


def run_database_worker(*, queues: Sequence[str], interval: float, burst: bool = False) -> None:
    """django-tasks-db's worker loop: SIGTERM lets the running task finish, then the loop ends."""
    from django.utils.crypto import get_random_string
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=list(queues),
        interval=interval,
        batch=burst,
        backend_name="default",
        startup_delay=not burst,
        max_tasks=None,
        worker_id=f"{os.uname().nodename[:40]}-{get_random_string(12)}",
        excluded_queue_names=[],
    )
    worker.configure_signals()
    worker.run()


def run_rq_worker(*, queues: Sequence[str], burst: bool = False) -> None:
    """An RQ worker with its scheduler, so that tasks delayed for a retry are enqueued on time.

    RQ's warm shutdown on SIGTERM waits for the job in hand; a second signal kills it.
    """
    import django_rq
    from django_rq.utils import reset_db_connections

    worker = django_rq.get_worker(*queues, job_class="django_tasks_rq.Job")
    # The job runs in a forked child: a connection opened before the fork must not be shared.
    reset_db_connections()
    worker.work(burst=burst, with_scheduler=True, logging_level=None)


def run_worker(
    *, interval: float = 1.0, sweep_interval: float = SWEEP_INTERVAL_SECONDS, burst: bool = False
) -> None:
    kind = task_backend_kind()
    queues = task_queue_names()
    # Both workers install their own SIGINT/SIGTERM handlers; put the caller's back afterwards.
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    sweeper = Sweeper(sweep_interval)
    sweeper.start()
    logger.info("worker started: backend=%s queues=%s pid=%s", kind, ",".join(queues), os.getpid())
    try:
        if kind == "database":
            run_database_worker(queues=queues, interval=interval, burst=burst)
        else:
            run_rq_worker(queues=queues, burst=burst)
    finally:
        sweeper.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        logger.info("worker stopped: pid=%s", os.getpid())


def check_worker(*, timeout: float) -> tuple[bool, str]:
    """Enqueues a probe task and waits for a worker to run it: is anyone taking tasks?"""
    from django_tasks import TaskResultStatus

    from assure.ops.tasks import worker_probe

    token = f"probe-{secrets.token_hex(8)}"
    result = worker_probe.enqueue(token)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result.refresh()
        if result.status == TaskResultStatus.SUCCESSFUL:
            return result.return_value == token, f"task {result.id} ran"
        if result.status == TaskResultStatus.FAILED:
            return False, f"task {result.id} failed"
        time.sleep(0.2)
    return False, f"no worker ran task {result.id} within {timeout:.0f} s"


# --- The supervisor of `assure serve` -------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM if the supervisor is killed outright (SIGKILL, OOM killer)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            pr_set_pdeathsig = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.process is not None  # noqa: S101 - started before any use
        return self.process.pid

    def start(self) -> None:
        # A process group of its own: Ctrl-C on a terminal reaches the supervisor only, which
        # then asks each child once to stop gracefully (a second SIGINT would force a worker).
        self.process = subprocess.Popen(  # noqa: S603 - argv is built from sys.executable
            self.argv, preexec_fn=_die_with_parent, process_group=0
        )

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)


def address_in_use(host: str, port: int) -> bool:
    """Whether another process listens there: better said before starting than by gunicorn's
    five retries. (A race remains until gunicorn binds; gunicorn then reports it.)"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As gunicorn does: a socket of a process that just stopped (TIME_WAIT) does not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def gunicorn_argv(*, host: str, port: int, workers: int | None) -> list[str]:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:assure.ops.gunicorn_conf",
        "--bind",
        bind,
    ]
    if workers:
        argv += ["--workers", str(workers)]
    return [*argv, "assure.wsgi:application"]


def worker_argv() -> list[str]:
    return [sys.executable, "-m", "assure", "worker"]


class Supervisor:
    """Starts the children, forwards SIGINT/SIGTERM to them, and fails as a whole."""

    def __init__(self, children: Sequence[Child], grace: float = STOP_GRACE_SECONDS) -> None:
        self.children = list(children)
        self.grace = grace
        self.stopping = False
        self.failed: Child | None = None

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stopping:
            return
        logger.info("received %s: stopping", signal.Signals(signum).name)
        self.stop()

    def stop(self) -> None:
        self.stopping = True
        for child in self.children:
            child.signal(signal.SIGTERM)

    def _reap(self) -> Child | None:
        """Waits for any child to end and records its exit code; EINTR is retried by Python."""
        try:
            pid, status = os.wait()
        except ChildProcessError:
            # Someone else reaped them (SIGCHLD ignored by a parent?): their status is lost, and
            # the supervisor must not wait for them forever.
            lost = self._running()
            for child in lost:
                assert child.process is not None  # noqa: S101 - only started children run
                child.process.returncode = 1
            return lost[0] if lost else None
        for child in self.children:
            if child.process is not None and child.pid == pid:
                child.process.returncode = os.waitstatus_to_exitcode(status)
                return child
        return None

    def _running(self) -> list[Child]:
        return [c for c in self.children if c.process is not None and c.process.returncode is None]

    def run(self) -> int:
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for child in self.children:
                if self.stopping:  # a signal came while the first children started
                    break
                child.start()
            while self._running():
                ended = self._reap()
                if ended is None:
                    continue
                assert ended.process is not None  # noqa: S101 - only started children are reaped
                if not self.stopping:
                    logger.error(
                        "%s (pid %s) exited with %s: stopping the others",
                        ended.name,
                        ended.pid,
                        ended.process.returncode,
                    )
                    self.failed = ended
                    self.stop()
                    self._wait_or_kill()
                    break
            self._wait_or_kill()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if self.failed is not None:
            return 1
        codes = [c.process.returncode for c in self.children if c.process is not None]
        return 0 if all(code in (0, -signal.SIGTERM) for code in codes) else 1

    def _wait_or_kill(self) -> None:
        deadline = time.monotonic() + self.grace
        for child in self._running():
            assert child.process is not None  # noqa: S101
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("%s (pid %s) did not stop in time: killed", child.name, child.pid)
                child.signal(signal.SIGKILL)
                child.process.wait()
