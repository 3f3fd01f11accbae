"""Counters shared by every process, in one atomic statement on the database.

Used for request budgets when the cache is the database (the embedded set-up, or the fallback
while Redis is down): Django's database cache would spend five queries on an increment (add, then
a read and a write) and could count two simultaneous requests as one. `INSERT … ON CONFLICT … DO
UPDATE … RETURNING` does it in one statement on both SQLite (3.35 and later) and PostgreSQL.
"""

from __future__ import annotations

import random
import time

from django.db import connection

from assure.core.models import RateCounter

# One increment in this many also deletes the expired rows, so the table stays the size of the
# live windows without a scheduled task.
PURGE_ONE_IN = 500

_TABLE = RateCounter._meta.db_table

_INCREMENT = f"""
INSERT INTO "{_TABLE}" ("key", "count", "expires_at") VALUES (%s, 1, %s)
ON CONFLICT ("key") DO UPDATE SET
    "count" = CASE WHEN "{_TABLE}"."expires_at" <= %s THEN 1 ELSE "{_TABLE}"."count" + 1 END,
    "expires_at" = CASE WHEN "{_TABLE}"."expires_at" <= %s
        THEN excluded."expires_at" ELSE "{_TABLE}"."expires_at" END
RETURNING "count"
"""  # noqa: S608 - the table name is the model's own; every value is a parameter


def increment(key: str, ttl: int) -> int:
    """Adds one to `key`'s count, which lives `ttl` seconds from its first count; returns it."""
    now = int(time.time())
    # One statement is atomic on its own: no BEGIN/COMMIT around it (two fewer round trips for
    # every request budget). The purge is independent of the count and may run apart from it.
    with connection.cursor() as cursor:
        cursor.execute(_INCREMENT, [key, now + ttl, now, now])
        (count,) = cursor.fetchone()
    if random.randrange(PURGE_ONE_IN) == 0:  # noqa: S311 - sampling, not a secret
        RateCounter.objects.filter(expires_at__lte=now).delete()
    return int(count)
