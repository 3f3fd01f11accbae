"""Prometheus metrics: what the web processes count, and what is read from the database at scrape.

Counters and histograms live in prometheus_client's multiprocess mode: every process (each gunicorn
worker, each thread in it) adds to a memory-mapped file of its own under `settings.METRICS_DIR`, and
`/metrics` sums the files of the whole directory, so one scrape sees every worker of the machine.
gunicorn's master keeps the directory small (`metrics_dir_prepare` when it starts,
`metrics_process_dead` when a worker exits: the dead worker's counts are folded into one archive
file, so workers replaced every few thousand requests do not leave a file each behind).

Gauges that describe shared state (task queue, outbox, feeds, database reachability) are not
counted by any process: they are read when Prometheus scrapes, so they are right whichever worker
answers and however many there are.

No label carries personal data: requests are labelled by their route's name (`payments:detail`,
never the path with its ids), login outcomes by a fixed word, feeds by their registered name.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, values
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# Methods a browser or the mobile app sends; anything else is counted as "other", so that a client
# inventing methods cannot create new series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Latency buckets, in seconds: a page is expected within 250 ms, a login (Argon2) within 1 s.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Counts of processes that have ended are kept in files of this name (one per gunicorn master).
ARCHIVE = "archive"

# --- What the processes count ---------------------------------------------------------------------

# Created without a registry: in multiprocess mode they are read back from the files, never from a
# process's memory (prometheus_client's documented pattern).
HTTP_REQUESTS = Counter(
    "assure_http_requests_total",
    "HTTP requests answered, by route name, method and status class.",
    ["route", "method", "status"],
    registry=None,
)
HTTP_DURATION = Histogram(
    "assure_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by route name and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
LOGINS = Counter(
    "assure_logins_total",
    "Member sign-ins by NIR and secret code: success, failure (wrong code), locked (account or "
    "address blocked).",
    ["result"],
    registry=None,
)
DATABASE_ERRORS = Counter(
    "assure_database_errors_total",
    "Requests that met an unreachable database (connection refused, lost or timed out).",
    ["error"],
    registry=None,
)


def route_name(request: HttpRequest) -> str:
    """The URL pattern's name, never the path: `payments:detail`, not `/mes-paiements/123/`."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or "unnamed"


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


def request_observe(request: HttpRequest, status: int, seconds: float) -> None:
    method = request.method if request.method in KNOWN_METHODS else "other"
    route = route_name(request)
    HTTP_REQUESTS.labels(route=route, method=method, status=status_class(status)).inc()
    HTTP_DURATION.labels(route=route, method=method).observe(seconds)


def database_error_observe(exception: BaseException) -> None:
    """Counts an exception once if it means the database could not be reached."""
    if getattr(exception, "_assure_metrics_counted", False):
        return
    if not isinstance(exception, OperationalError | InterfaceError):
        return
    # A deadlock or a serialisation failure (SQLSTATE class 40) was answered by the server.
    sqlstate = getattr(exception.__cause__, "sqlstate", None) or ""
    if sqlstate.startswith("40"):
        return
    with contextlib.suppress(AttributeError):
        setattr(exception, "_assure_metrics_counted", True)  # noqa: B010 - a mark, not a field
    DATABASE_ERRORS.labels(error=exception.__class__.__name__).inc()


class RequestMetricsMiddleware:
    """Outermost middleware: counts every answer and its duration, whoever produced it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Built once per web process: the outcomes show as 0 before the first login, so that
        # rate() and alerts work from the start (other processes, commands, write no file).
        for result in ("success", "failure", "locked"):
            LOGINS.labels(result=result)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        request_observe(request, response.status_code, time.perf_counter() - started)
        return response


class DatabaseErrorMetricsMiddleware:
    """Innermost middleware: sees a view's database error before another middleware turns it
    into a 503 page (errors raised outside views arrive through `got_request_exception`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        database_error_observe(exception)


def _on_request_exception(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Django sends the exception being handled; the receiver runs inside its `except` block.
    exception = sys.exc_info()[1]
    if exception is not None:
        database_error_observe(exception)


def _on_login_attempted(sender: Any, outcome: str, **kwargs: Any) -> None:
    LOGINS.labels(result=outcome).inc()


def instrument() -> None:
    """Called once from the ops app's `ready()`: hooks the counters to what they count.

    identity sits below ops and knows nothing of metrics (STYLE.md layers): it announces each login
    attempt with a signal, whoever called it (the web page or the API), and the counter listens.
    """
    from assure.identity.signals import login_attempted

    if not getattr(values.ValueClass, "_multiprocess", False):
        raise ImproperlyConfigured(
            "prometheus_client was imported before the settings named PROMETHEUS_MULTIPROC_DIR: "
            "its counters would stay in one process's memory."
        )
    login_attempted.connect(_on_login_attempted, dispatch_uid="assure-metrics-logins")
    got_request_exception.connect(_on_request_exception, dispatch_uid="assure-metrics-db-errors")


# --- What is read at scrape time ------------------------------------------------------------------


def _queue_depths() -> dict[str, int]:
    """Tasks waiting per queue; empty when the backend keeps no queue (the immediate one)."""
    backend = str(settings.TASKS["default"]["BACKEND"])
    queues = list(settings.TASKS["default"].get("QUEUES") or ["default"])
    if backend.startswith("django_tasks_rq"):
        import django_rq

        return {name: int(django_rq.get_queue(name).count) for name in queues}
    if backend.startswith("django_tasks_db"):
        from django.db.models import Count
        from django_tasks_db.models import DBTaskResult

        counts = dict(
            DBTaskResult.objects.ready()
            .values_list("queue_name")
            .annotate(n=Count("id"))
            .values_list("queue_name", "n")
        )
        return {name: int(counts.get(name, 0)) for name in {*queues, *counts}}
    return {}


def _database_up(alias: str) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # whatever the reason, this process cannot query that database now
        return False
    return True


class StateCollector(Collector):
    """Figures read from the database and the queue when Prometheus scrapes.

    A figure that cannot be read is left out of the answer (and logged): the scrape still gives the
    others, and `assure_database_up` says why.
    """

    def describe(self) -> Iterable[Any]:
        return []  # no reads when the collector is registered

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "assure_database_up",
            "1 when the database answers a query from this process, per alias (default, replicas).",
            labels=["database"],
        )
        reachable = {}
        for alias in connections:
            reachable[alias] = _database_up(alias)
            up.add_metric([alias], 1.0 if reachable[alias] else 0.0)
        yield up
        if not reachable.get("default", False):
            return
        for name, read in (
            ("queue", self._queue),
            ("outbox", self._outbox),
            ("feeds", self._feeds),
        ):
            try:
                yield from read()
            except Exception as exc:  # a figure missing from one scrape; the others still count
                logger.warning("metrics: %s figures unavailable (%s)", name, type(exc).__name__)

    def _queue(self) -> Iterator[Any]:
        depth = GaugeMetricFamily(
            "assure_task_queue_depth", "Tasks waiting to be run, per queue.", labels=["queue"]
        )
        for queue, count in sorted(_queue_depths().items()):
            depth.add_metric([queue], float(count))
        yield depth

    def _outbox(self) -> Iterator[Any]:
        from assure.notifications.selectors import outbox_backlog

        backlog = outbox_backlog()
        messages = GaugeMetricFamily(
            "assure_outbox_messages",
            "E-mails and letters not yet delivered, by status (failed ones need an operator).",
            labels=["status"],
        )
        for status in ("pending", "sending", "failed"):
            messages.add_metric([status], float(backlog[status]))
        yield messages
        yield GaugeMetricFamily(
            "assure_outbox_oldest_age_seconds",
            "Age of the oldest e-mail or letter waiting to be sent (0 when none waits).",
            value=float(backlog["oldest_pending_age_seconds"]),
        )

    def _feeds(self) -> Iterator[Any]:
        from assure.core.models import FeedRun

        lines = CounterMetricFamily(
            "assure_feed_lines",
            "Lines of the fund's feeds since the first run, by feed and result.",
            labels=["feed", "result"],
        )
        last = GaugeMetricFamily(
            "assure_feed_last_success_timestamp_seconds",
            "When each feed last finished a run (Unix time).",
            labels=["feed"],
        )
        totals = FeedRun.objects.values("feed").annotate(
            created=Sum("created"),
            updated=Sum("updated"),
            unchanged=Sum("unchanged"),
            rejected=Sum("rejected"),
        )
        for row in totals.order_by("feed"):
            for result in ("created", "updated", "unchanged", "rejected"):
                lines.add_metric([row["feed"], result], float(row[result] or 0))
        finished = (
            FeedRun.objects.filter(status=FeedRun.Status.FINISHED)
            .values("feed")
            .annotate(at=Max("finished_at"))
            .order_by("feed")
        )
        for row in finished:
            if row["at"] is not None:
                last.add_metric([row["feed"]], row["at"].timestamp())
        yield lines
        yield last


# --- The files of the multiprocess mode ---------------------------------------------------------


def metrics_dir() -> Path:
    return Path(settings.METRICS_DIR)


class FilesCollector(multiprocess.MultiProcessCollector):
    """prometheus_client's collector, tolerant of a file removed between listing and reading (a
    worker folded into the archive by gunicorn's master during the scrape): it lists again."""

    def collect(self) -> Iterable[Any]:
        for _attempt in range(3):
            files = glob.glob(os.path.join(self._path, "*.db"))
            try:
                return self.merge(files, accumulate=True)
            except FileNotFoundError:
                continue
        return self.merge(glob.glob(os.path.join(self._path, "*.db")), accumulate=True)


def metrics_registry() -> CollectorRegistry:
    """A registry for one scrape: the counters of every process plus the figures read now."""
    registry = CollectorRegistry(auto_describe=False)
    FilesCollector(registry, path=str(metrics_dir()))
    registry.register(StateCollector())
    return registry


def metrics_text() -> tuple[bytes, str]:
    # The classic text format (0.0.4): every Prometheus version reads it, and our names need
    # nothing newer.
    return generate_latest(metrics_registry()), CONTENT_TYPE_PLAIN_0_0_4


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _owner(path: str) -> int | None:
    """The pid in `counter_1234.db` or `histogram_archive-1234.db`; None when there is none."""
    stem = Path(path).stem.rsplit("_", 1)[-1]
    number = stem.removeprefix(f"{ARCHIVE}-")
    return int(number) if number.isdigit() else None


def metrics_dir_prepare(path: Path | None = None) -> int:
    """Removes the files of processes that are gone (a previous run): counters start again from
    zero, as Prometheus expects after a restart. Files of live processes (a task worker, another
    instance on the same data directory) are left alone. Returns how many files were removed."""
    directory = path or metrics_dir()
    directory.mkdir(parents=True, exist_ok=True)
    removed = 0
    for file in glob.glob(str(directory / "*.db")):
        owner = _owner(file)
        if owner is None or not _pid_alive(owner):
            with contextlib.suppress(FileNotFoundError):
                os.remove(file)
                removed += 1
    return removed


def metrics_process_dead(pid: int, *, archive_owner: int, path: Path | None = None) -> None:
    """Folds an ended process's counters and histograms into the archive of `archive_owner` (the
    gunicorn master) and removes its files, so the totals stay and the file count does not grow.

    Called by one process only (the master, in its child_exit hook): the archive has one writer.
    """
    directory = path or metrics_dir()
    for kind in ("counter", "histogram"):
        dead = directory / f"{kind}_{pid}.db"
        if not dead.exists():
            continue
        archive = MmapedDict(str(directory / f"{kind}_{ARCHIVE}-{archive_owner}.db"))
        try:
            for key, value, *_rest in MmapedDict.read_all_values_from_file(str(dead)):
                current, _ = archive.read_value(key)
                archive.write_value(key, current + value, 0.0)
        finally:
            archive.close()
        dead.unlink()
    multiprocess.mark_process_dead(pid, str(directory))
