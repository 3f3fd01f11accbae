"""gunicorn's configuration for assure: `gunicorn -c python:assure.ops.gunicorn_conf assure.wsgi`.

`assure serve` uses it, and so can a production unit (deploy/assure-web.service); command-line
flags (`--bind`, `--workers`) override any value here. gunicorn reads this module in its master
process before forking, so it must stay cheap and free of database access.
"""

from __future__ import annotations

import gc
import os

from django.conf import settings

# The web processes use the project's settings; the master process needs them for log formats.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assure.settings")

wsgi_app = "assure.wsgi:application"
bind = ["127.0.0.1:8000"]

# Threads rather than async workers: the views are synchronous Django, and a thread waiting on the
# database or on Argon2 costs little memory. Two processes keep serving while one restarts.
worker_class = "gthread"
workers = 2
threads = 4

# A request that takes longer than this is stuck: the master kills its worker and starts another.
timeout = 30
# SIGTERM lets requests in flight finish for this long (systemd's TimeoutStopSec is above it).
graceful_timeout = 20
keepalive = 5
# Workers are replaced now and then so that a slow leak never grows without bound. Not often: a
# new worker connects to the database again and builds what a worker keeps (statements compiled
# once, kept parts of pages, statements prepared on the server), about 0.8 s of processor in all
# (bench/worker_start.py, docs/performance.md), which every 2,000 requests was 0.4 ms a request,
# a twentieth of a page. The 30-minute soak shows no growth to contain more often than this.
max_requests = 20000
max_requests_jitter = 2000
# The application is loaded once, in the master, before the workers are forked: a replaced
# worker starts warm (URLs, templates, translations, compiled settings) in a fork instead of
# importing everything again. Without this, each replacement cost about 1.5 s of CPU and its
# first requests waited behind the imports (seconds at the 99th percentile of the load test,
# docs/performance.md). Nothing opens a database or Redis connection at import. New code then
# needs a restart of the service, not a reload (docs/operations.md).
preload_app = True
# Refuse request lines and header blocks far larger than any real browser sends.
limit_request_line = 8190
limit_request_fields = 100
# gunicorn's control socket sits at one path per user: two instances on a machine would fight
# over it, and nothing of assure uses it.
control_socket_disable = True

# Only the reverse proxy on the same machine may set X-Forwarded-* (deploy/nginx-assure.conf);
# production units widen this with --forwarded-allow-ips when the proxy is elsewhere.
forwarded_allow_ips = "127.0.0.1,::1"
proxy_allow_ips = "127.0.0.1,::1"

# The access log keeps the path without its query string (%(U)s, not %(r)s) and leaves out the
# Referer: both may carry a NIR, an e-mail address or a token typed into a search form.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

# gunicorn's own loggers go through the same masking filter and formatter as the application's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_identifiers": {"()": "assure.core.logging.MaskIdentifiersFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "assure.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["mask_identifiers"],
            "formatter": settings.LOG_FORMAT,
            "stream": "ext://sys.stderr",
        },
        "access": {
            "class": "logging.StreamHandler",
            "filters": ["mask_identifiers"],
            "formatter": settings.LOG_FORMAT,
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


# Prometheus counters (assure/ops/metrics.py): each worker writes its own file in METRICS_DIR. The
# master removes the files of a previous run when it starts, and folds an exited worker's counts
# into one archive file, so that replacing workers (max_requests) neither loses counts nor leaves
# a file per worker behind.
def on_starting(server: object) -> None:
    from assure.ops.metrics import metrics_dir_prepare

    metrics_dir_prepare()


def when_ready(server: object) -> None:
    """The master loads, once, what each worker's first requests would (assure/ops/warm.py)."""
    from assure.ops.warm import application_warm

    application_warm()


def pre_fork(server: object, worker: object) -> None:
    """What the master holds lives as long as the workers: out of the garbage collector's sight.

    The workers' full collections then walk only what requests create instead of every module,
    class and function of the application too (over two hundred thousand objects; each full
    collection holds every thread of the worker for about a tenth of a second on the machine of
    docs/performance.md), and do not write into the memory a worker shares with the master
    (Python's documentation of gc.freeze). Garbage is collected first, so none is kept for ever."""
    gc.collect()
    gc.freeze()


def child_exit(server: object, worker: object) -> None:
    from assure.ops.metrics import metrics_process_dead

    metrics_process_dead(worker.pid, archive_owner=os.getpid())  # type: ignore[attr-defined]
