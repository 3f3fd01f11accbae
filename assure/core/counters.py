"""Counters shared by every process, in one atomic statement on the database.

Used for request budgets when the cache is the database (the embedded set-up, or the fallback
while Redis is down): Django's database cache would spend five queries on an increment (add, then
a read and a write) and could count two simultaneous requests as one. `INSERT … ON CONFLICT … DO
UPDATE … RETURNING` does it in one statement on both SQLite (3.35 and later) and PostgreSQL.
"""

from __future__ import annotations

import random
import time
from functools import lru_cache

from django.db import connection

from assure.core.models import RateCounter

# One increment in this many also deletes the expired rows, so the table stays the size of the
# live windows without a scheduled task.
PURGE_ONE_IN = 500

_TABLE = RateCounter._meta.db_table


@lru_cache(maxsize=8)
def _increment_sql(rows: int) -> str:
    """The upsert of `rows` counters (a request counts one or two: its address, its member)."""
    values = ", ".join(["(%s, 1, %s)"] * rows)
    return f"""
INSERT INTO "{_TABLE}" ("key", "count", "expires_at") VALUES {values}
ON CONFLICT ("key") DO UPDATE SET
    "count" = CASE WHEN "{_TABLE}"."expires_at" <= %s THEN 1 ELSE "{_TABLE}"."count" + 1 END,
    "expires_at" = CASE WHEN "{_TABLE}"."expires_at" <= %s
        THEN excluded."expires_at" ELSE "{_TABLE}"."expires_at" END
RETURNING "key", "count"
"""  # noqa: S608 - the table name is the model's own; every value is a parameter


def increment(key: str, ttl: int) -> int:
    """Adds one to `key`'s count, which lives `ttl` seconds from its first count; returns it."""
    return increment_many([(key, ttl)])[0]


def increment_many(keys: list[tuple[str, int]]) -> list[int]:
    """`increment` for each (key, ttl), in one statement; the counts in the same order.

    One statement is atomic on its own: no BEGIN/COMMIT around it (two fewer round trips for
    every request budget), and one round trip whatever the number of keys. The purge is
    independent of the counts and may run apart from them.
    """
    if len({key for key, _ttl in keys}) != len(keys):
        raise ValueError("each key once: a statement cannot update one row twice")
    now = int(time.time())
    sql = _increment_sql(len(keys))
    params: list[str | int] = []
    for key, ttl in keys:
        params += [key, now + ttl]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, now, now])
        counts = dict(cursor.fetchall())
    if random.randrange(PURGE_ONE_IN) == 0:  # noqa: S311 - sampling, not a secret
        RateCounter.objects.filter(expires_at__lte=now).delete()
    return [int(counts[key]) for key, _ttl in keys]
