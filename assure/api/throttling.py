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
        counted: dict[str, bool] = request.__dict__.setdefault(_COUNTED, {})
        if self.scope in counted:
            return counted[self.scope]
        ident = self.ident(request)
        if ident is None:
            counted[self.scope] = True
            return True
        limit, window = _rate(self.scope)
        now = time.time()
        start = int(now // window) * window
        key = f"api:throttle:{self.scope}:{ident}:{start}"
        hits = cache.count(key, window + 5)
        allowed = hits <= limit
        self._local.wait = None if allowed else max(1.0, start + window - now)
        counted[self.scope] = allowed
        return allowed

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


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
    waits = [t.wait() or 1.0 for t in throttles if not t.allow_request(request)]
    return max(waits) if waits else None
