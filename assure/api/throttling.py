"""Request rates of the JSON API, counted in the shared cache so that every process sees one count.

Fixed windows with an atomic increment (Redis's INCR, or one upsert on the database on the embedded
set-up and while Redis is down: assure.core.counters): no read-modify-write race between gunicorn
workers, one round trip a request and scope. Each scope has its
rate in settings (API_THROTTLE_RATES, "count/seconds"); authentication endpoints get a stricter
one on top of the per-address budget every endpoint shares.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from assure.identity import throttling as identity_throttling

# The shared cache, or the database while Redis is unreachable (identity.throttling).
cache = identity_throttling.cache

# On the request: each scope's decision, (allowed, seconds to wait), once counted.
_COUNTED = "_assure_api_throttles"


def _rate(scope: str) -> tuple[int, int]:
    count, _sep, seconds = str(settings.API_THROTTLE_RATES[scope]).partition("/")
    return int(count), int(seconds or 60)


class ApiThrottle(BaseThrottle):
    """One scope's budget. A request is counted once per scope even when checked twice."""

    scope = "address"

    def __init__(self) -> None:
        # One instance serves every request of a process: the wait is kept per thread.
        self._local = threading.local()

    def ident(self, request: HttpRequest) -> str | None:
        return identity_throttling.client_address(request) or "unknown"

    def allow_request(self, request: HttpRequest) -> bool:
        count_budgets(request, self)
        allowed, wait = request.__dict__[_COUNTED][self.scope]
        self._local.wait = wait
        return bool(allowed)

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


def count_budgets(request: HttpRequest, *throttles: ApiThrottle) -> None:
    """Counts this request against each scope not counted yet, all in one round trip."""
    decided: dict[str, tuple[bool, float | None]] = request.__dict__.setdefault(_COUNTED, {})
    pending = []
    now = time.time()
    for throttle in throttles:
        if throttle.scope in decided:
            continue
        ident = throttle.ident(request)
        if ident is None:
            decided[throttle.scope] = (True, None)
            continue
        limit, window = _rate(throttle.scope)
        start = int(now // window) * window
        key = f"api:throttle:{throttle.scope}:{ident}:{start}"
        pending.append((throttle.scope, key, window, limit, start + window - now))
    if not pending:
        return
    counts = cache.count_many([(key, window + 5) for _scope, key, window, _l, _s in pending])
    for (scope, _key, _window, limit, seconds_left), hits in zip(pending, counts, strict=True):
        allowed = hits <= limit
        decided[scope] = (allowed, None if allowed else max(1.0, seconds_left))


class AddressThrottle(ApiThrottle):
    """Every endpoint: per client address (members behind one NAT share it, so it is generous)."""

    scope = "address"


class AuthThrottle(ApiThrottle):
    """auth/*: per client address, stricter, since these endpoints check secrets or send mail."""

    scope = "auth"


class MemberThrottle(ApiThrottle):
    """Member endpoints: per account, so that one app cannot starve the others behind a NAT."""

    scope = "member"

    def ident(self, request: HttpRequest) -> str | None:
        account = getattr(request, "member_account", None)
        return str(account.pk) if account is not None else None


class FeedThrottle(ApiThrottle):
    """Feed endpoints: per feed token."""

    scope = "feed"

    def ident(self, request: HttpRequest) -> str | None:
        token = getattr(request, "auth", None)
        return str(getattr(token, "pk", "")) or None


def throttle_check(request: HttpRequest, *throttles: ApiThrottle) -> float | None:
    """None when every budget allows the request, else the seconds to wait."""
    count_budgets(request, *throttles)
    waits = [t.wait() or 1.0 for t in throttles if not t.allow_request(request)]
    return max(waits) if waits else None
