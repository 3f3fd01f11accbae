"""Failure counting in the shared cache (Redis in production), so every web process sees the same.

Per login identifier (a keyed hash of the NIR as typed, so an unknown NIR counts exactly like a
known one): 5 consecutive failures lock it 15 minutes, the next 5 for 30, then 60…; and never more
than 100 failures in an hour (OWASP ASVS 2.2.1). Per client address: more than 50 failures in 10
minutes block the address 10 minutes (settings, since many members share an address behind a NAT).

End times are stored as values and compared with the clock, not left to cache expiry, so a lock
means the same on every backend and under a test's time machine.

While Redis is unreachable the counters live in the database cache (the "fallback" alias of
settings): sign-ins go on, still throttled across every process, and each process tries Redis
again every RETRY_PRIMARY_SECONDS. Counts made during the outage stay in the database (a lock taken
then is lifted by its end time as usual); counting starts afresh in Redis when it is back.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from assure.core import counters
from assure.identity.tokens import keyed_hash

_DAY = 24 * 3600
# After a failure, Redis is left alone this long before the next try: each sign-in does not pay
# for a connection attempt.
RETRY_PRIMARY_SECONDS = 10.0

logger = logging.getLogger(__name__)


def _outage_errors() -> tuple[type[BaseException], ...]:
    """What an unreachable cache server raises; a missing key (ValueError on incr) is not one."""
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - redis ships with rq, a dependency
        pass
    else:
        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    return tuple(errors)


_OUTAGE_ERRORS = _outage_errors()


# For each key: create it with its expiry if absent, then INCR. One script is one command,
# atomic, in one round trip whatever the number of keys (a MULTI/EXEC pipeline of the same
# commands cost twice as much in the client); plain commands every Redis version has.
_COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'EX', ARGV[i], 'NX')
  counts[i] = redis.call('INCR', key)
end
return counts
"""
# The script's object holds its text and digest; each call names the client that runs it.
_count_script: Any = None


def _redis_count(primary: RedisCache, keys: list[tuple[str, int]]) -> list[int]:
    """Adds one to each key (which lives its ttl from its first count) in one round trip. Atomic,
    so a key can neither slide its window nor be left without an expiry."""
    full_keys = [primary.make_and_validate_key(key) for key, _ttl in keys]
    # Counters are written to the first server (Django's RedisCache writes there whatever the key).
    client = primary._cache.get_client(full_keys[0], write=True)  # type: ignore[attr-defined]
    global _count_script  # made once, on first use
    if _count_script is None:
        _count_script = client.register_script(_COUNT_SCRIPT)
    counts = _count_script(keys=full_keys, args=[ttl for _key, ttl in keys], client=client)
    return [int(count) for count in counts]


def _cache_count(cache_: Any, key: str, ttl: int) -> int:
    """add then incr (for a cache that is neither Redis nor the database, such as the tests' local
    memory; atomic only where the caller makes it so)."""
    cache_.add(key, 0, ttl)
    try:
        return int(cache_.incr(key))
    except ValueError:  # expired between add and incr
        cache_.set(key, 1, ttl)
        return 1


class _ResilientCache:
    """The default cache, or the database fallback while the default one is unreachable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._primary_down_until = 0.0

    def _call(self, method: str, *args: Any) -> Any:
        if "fallback" not in settings.CACHES:
            return getattr(caches["default"], method)(*args)
        if time.monotonic() >= self._primary_down_until:
            try:
                return getattr(caches["default"], method)(*args)
            except _OUTAGE_ERRORS as exc:
                self._primary_unreachable(exc)
        return getattr(caches["fallback"], method)(*args)

    def _primary_unreachable(self, exc: BaseException) -> None:
        with self._lock:
            self._primary_down_until = time.monotonic() + RETRY_PRIMARY_SECONDS
        logger.warning(
            "cache unreachable (%s): throttling counts in the database for %.0f s",
            exc.__class__.__name__,
            RETRY_PRIMARY_SECONDS,
        )

    def count(self, key: str, ttl: int) -> int:
        """Adds one to a counter that lives `ttl` seconds, atomically, and returns it: Redis's
        INCR, or one statement on the database when the cache is the database (embedded set-up)
        or Redis is down (`assure.core.counters`)."""
        return self.count_many([(key, ttl)])[0]

    def count_many(self, keys: list[tuple[str, int]]) -> list[int]:
        """`count` for each (key, ttl), in one round trip; the counts in the same order."""
        primary = caches["default"]
        if not isinstance(primary, DatabaseCache) and time.monotonic() >= self._primary_down_until:
            try:
                if isinstance(primary, RedisCache):
                    return _redis_count(primary, keys)
                return [_cache_count(primary, key, ttl) for key, ttl in keys]
            except _OUTAGE_ERRORS as exc:
                self._primary_unreachable(exc)
        return counters.increment_many(keys)

    def using_fallback(self) -> bool:
        return time.monotonic() < self._primary_down_until

    def get(self, key: str) -> Any:
        return self._call("get", key)

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        return dict(self._call("get_many", keys))

    def set(self, key: str, value: Any, timeout: int) -> None:
        self._call("set", key, value, timeout)

    def add(self, key: str, value: Any, timeout: int) -> bool:
        return bool(self._call("add", key, value, timeout))

    def incr(self, key: str) -> int:
        return int(self._call("incr", key))

    def delete_many(self, keys: list[str]) -> None:
        self._call("delete_many", keys)


cache = _ResilientCache()


@dataclass(frozen=True)
class Lock:
    until: dt.datetime


def _key(kind: str, value: str) -> str:
    return f"identity:{kind}:{keyed_hash(value, purpose='throttle')[:40]}"


def _incr(key: str, ttl: int) -> int:
    # Django's database cache increments by a read then a write: two failures counted at the same
    # moment by two processes could both read 10 and write 11, and an attacker sending many
    # requests at once would get more tries than the limit. In one transaction the increment is
    # atomic on SQLite, whose transactions begin IMMEDIATE (one writer at a time, settings);
    # Redis increments atomically by itself (tests/security/test_credential_stuffing.py).
    with transaction.atomic():
        return _cache_count(cache, key, ttl)


def _until(key: str) -> dt.datetime | None:
    value = cache.get(key)
    if value is None:
        return None
    until = dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
    return until if until > timezone.now() else None


def _set_until(key: str, until: dt.datetime) -> None:
    ttl = max(1, int((until - timezone.now()).total_seconds()) + 60)
    cache.set(key, until.timestamp(), ttl)


def client_address(request: HttpRequest) -> str:
    """The client's address; behind N trusted proxies, the N-th address from the right."""
    hops = int(settings.IDENTITY_TRUSTED_PROXY_COUNT)
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return str(request.META.get("REMOTE_ADDR", ""))


@dataclass(frozen=True)
class LoginState:
    lock: Lock | None
    address_lock: Lock | None
    has_failures: bool


def _lock_from(value: object) -> Lock | None:
    if value is None:
        return None
    until = dt.datetime.fromtimestamp(float(value), tz=dt.UTC)  # type: ignore[arg-type]
    return Lock(until) if until > timezone.now() else None


def login_state(identifier: str, address: str) -> LoginState:
    """Both locks and whether there is a count to reset, in one round trip to the cache."""
    keys = {
        "lock": _key("until", identifier),
        "addr": _key("addr-until", address),
        "fails": _key("fails", identifier),
        "level": _key("level", identifier),
    }
    found = cache.get_many(list(keys.values()))
    return LoginState(
        lock=_lock_from(found.get(keys["lock"])),
        address_lock=_lock_from(found.get(keys["addr"])) if address else None,
        has_failures=bool(found.get(keys["fails"]) or found.get(keys["level"])),
    )


def login_lock(identifier: str) -> Lock | None:
    until = _until(_key("until", identifier))
    return Lock(until) if until else None


def address_lock(address: str) -> Lock | None:
    until = _until(_key("addr-until", address))
    return Lock(until) if until else None


def login_failure(identifier: str) -> Lock | None:
    """Count one failure; the lock it starts, if any."""
    now = timezone.now()
    hour_key = _key(f"hour:{int(now.timestamp()) // 3600}", identifier)
    per_hour = _incr(hour_key, 3600)
    failures = _incr(_key("fails", identifier), _DAY)
    until: dt.datetime | None = None
    if failures >= settings.IDENTITY_LOCK_AFTER_FAILURES:
        level = _incr(_key("level", identifier), _DAY) - 1
        seconds = settings.IDENTITY_LOCK_FIRST_SECONDS * (2**level)
        until = now + dt.timedelta(seconds=min(seconds, _DAY))
        cache.set(_key("fails", identifier), 0, _DAY)
    if per_hour >= settings.IDENTITY_FAILURES_PER_HOUR:
        hour_end = dt.datetime.fromtimestamp((int(now.timestamp()) // 3600 + 1) * 3600, tz=dt.UTC)
        until = max(until or hour_end, hour_end)
    if until is None:
        return None
    _set_until(_key("until", identifier), until)
    return Lock(until)


def login_success(identifier: str, state: LoginState | None = None) -> None:
    """Resets the count; skipped when `state` (read at the start of the login) shows none."""
    if state is not None and not state.has_failures:
        return
    cache.delete_many([_key("fails", identifier), _key("level", identifier)])


def login_unlock(identifier: str) -> None:
    cache.delete_many(
        [_key("until", identifier), _key("fails", identifier), _key("level", identifier)]
    )


def address_failure(address: str) -> Lock | None:
    if not address:
        return None
    now = timezone.now()
    window = int(settings.IDENTITY_ADDRESS_WINDOW_SECONDS)
    count = _incr(_key(f"addr:{int(now.timestamp()) // window}", address), window)
    if count <= settings.IDENTITY_ADDRESS_FAILURES:
        return None
    until = now + dt.timedelta(seconds=settings.IDENTITY_ADDRESS_BLOCK_SECONDS)
    _set_until(_key("addr-until", address), until)
    return Lock(until)


def request_allowed(kind: str, value: str, *, limit: int, window_seconds: int) -> bool:
    """A plain budget (sign-up, forgotten code, account check): False once `limit` is passed."""
    if not value:
        return True
    now = int(timezone.now().timestamp())
    return _incr(_key(f"{kind}:{now // window_seconds}", value), window_seconds) <= limit
