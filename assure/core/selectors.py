"""Reads of the core: readiness of the services the process depends on."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def _check(name: str, probe: Any) -> dict[str, Any]:
    try:
        detail = probe()
    except Exception as exc:  # any failure means "not ready"; its class tells operators why
        logger.warning("readiness check %s failed: %s", name, exc.__class__.__name__)
        return {"ok": False, "error": exc.__class__.__name__}
    result: dict[str, Any] = {"ok": True}
    if isinstance(detail, dict):
        result.update(detail)
    return result


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache_backend() -> str:
    return "redis" if "redis" in str(settings.CACHES["default"]["BACKEND"]).lower() else "local"


def _cache() -> dict[str, Any]:
    cache.set("assure:readyz", "1", 5)
    if cache.get("assure:readyz") != "1":
        raise RuntimeError("cache did not keep a value")
    return {"backend": _cache_backend()}


def _queue() -> dict[str, Any]:
    backend = str(settings.TASKS["default"]["BACKEND"])
    if backend.startswith("django_tasks_rq"):
        import django_rq

        queue = django_rq.get_queue("default")
        queue.connection.ping()
        return {"backend": "rq", "queued": queue.count}
    from django_tasks_db.models import DBTaskResult

    return {"backend": "database", "queued": DBTaskResult.objects.ready().count()}


def degradable_checks() -> set[str]:
    """Checks whose failure leaves the web able to serve: with Redis down, sessions are in the
    database, throttling falls back to the database cache and the outbox sweep re-enqueues what
    the queue lost. The database, and the figures read from it, are never degradable."""
    names = set()
    if _cache_backend() == "redis" and "fallback" in settings.CACHES:
        names.add("cache")
    if str(settings.TASKS["default"]["BACKEND"]).startswith("django_tasks_rq"):
        names.add("queue")
    return names


def readiness_status(checks: dict[str, dict[str, Any]]) -> str:
    """ "ready", "degraded" (only degradable checks failed: still serving) or "unavailable"."""
    failed = {name for name, check in checks.items() if not check["ok"]}
    if not failed:
        return "ready"
    return "degraded" if failed <= degradable_checks() else "unavailable"


def readiness_checks() -> dict[str, dict[str, Any]]:
    checks = {
        "database": _check("database", _database),
        "cache": _check("cache", _cache),
        "queue": _check("queue", _queue),
    }
    # Backlog figures of upper apps (the outbox): informative, so that a scraper can alert on a
    # growing backlog; they fail readiness only when they cannot be read at all.
    for name, path in getattr(settings, "READINESS_FIGURES", {}).items():
        checks[name] = _check(name, import_string(path))
    return checks
