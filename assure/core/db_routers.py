"""Read replicas: which database serves a query (settings: DATABASE_REPLICA_URLS).

A replica may only serve what a member reads in a request that cannot have changed anything:

- `ReplicaMiddleware` opens the door per request: a GET or HEAD outside the back office, from a
  client that has not written in the last `DATABASE_REPLICA_PIN_SECONDS`, picks one replica at
  random and keeps it for the whole request (two reads of one page never come from two replicas).
- `ReplicaRouter` sends reads of the apps in `DATABASE_REPLICA_APPS` through that door, and
  everything else to the primary: every write, every read inside a transaction (a service's reads
  before its writes must see the primary), every read after a write in the same request, and every
  read outside a request (tasks, commands, the feeds).
- Read-your-writes across requests: a request that writes (or any POST, PUT, PATCH, DELETE) pins
  its client to the primary for a few seconds, the browser by a cookie that holds the time the pin
  ends, the API client by a cache entry keyed by a hash of its Authorization header. The member who
  just sent a message sees it on the next page even if the replica is a second behind.

Without replicas, the router answers None everywhere and Django behaves as if it were absent.
"""

from __future__ import annotations

import contextvars
import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse

PRIMARY = "default"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class RequestRouting:
    """What the current request may read from: one replica, until it writes."""

    replica: str | None
    wrote: bool = False


_routing: contextvars.ContextVar[RequestRouting | None] = contextvars.ContextVar(
    "assure_replica_routing", default=None
)


def replicas() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


def _routed(model: type[Any]) -> bool:
    return model._meta.app_label in settings.DATABASE_REPLICA_APPS


class ReplicaRouter:
    """Django database router; see the module's docstring for what goes where."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if not replicas():
            return None
        routing = _routing.get()
        if (
            routing is None
            or routing.replica is None
            or routing.wrote
            or not _routed(model)
            or connections[PRIMARY].in_atomic_block
        ):
            # Named explicitly: left to Django, a related object of a row read from a replica
            # would be read from that replica too, whatever its app.
            return PRIMARY
        return routing.replica

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        if not replicas():
            return None
        routing = _routing.get()
        if routing is not None and _routed(model):
            routing.wrote = True
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # A replica holds the same rows as the primary: a member read from one may own a
        # statement read from the other.
        same_data = {PRIMARY, *replicas()}
        if obj1._state.db in same_data and obj2._state.db in same_data:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # Replicas follow the primary's schema by replication; nothing is migrated on them.
        if db in replicas():
            return False
        return None


# --- The request's side ---------------------------------------------------------------------------


def _api_pin_key(request: HttpRequest) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if not authorization:
        return None
    digest = hashlib.sha256(authorization.encode()).hexdigest()[:40]
    return f"assure:replica-pin:{digest}"


def _pinned(request: HttpRequest) -> bool:
    cookie = request.COOKIES.get(settings.DATABASE_REPLICA_PIN_COOKIE, "")
    try:
        if cookie and float(cookie) > time.time():
            return True
    except ValueError:
        pass  # a forged or damaged cookie: not pinned by it
    key = _api_pin_key(request)
    return key is not None and bool(cache.get(key))


def _may_use_replica(request: HttpRequest) -> bool:
    return (
        request.method in SAFE_METHODS
        and not any(request.path.startswith(p) for p in settings.DATABASE_REPLICA_PRIMARY_PATHS)
        and not _pinned(request)
    )


def _pin(request: HttpRequest, response: HttpResponse) -> None:
    seconds = settings.DATABASE_REPLICA_PIN_SECONDS
    response.set_cookie(
        settings.DATABASE_REPLICA_PIN_COOKIE,
        f"{time.time() + seconds:.0f}",
        max_age=seconds,
        path="/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    key = _api_pin_key(request)
    if key is not None:
        cache.set(key, 1, seconds)


class ReplicaMiddleware:
    """Chooses, per request, whether a replica may serve its reads, and pins writers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        available = replicas()
        if not available:
            return self.get_response(request)
        replica = random.choice(available) if _may_use_replica(request) else None  # noqa: S311 - load spreading, not security
        routing = RequestRouting(replica=replica)
        token = _routing.set(routing)
        try:
            response = self.get_response(request)
        finally:
            _routing.reset(token)
        if routing.wrote or request.method not in SAFE_METHODS:
            _pin(request, response)
        return response
