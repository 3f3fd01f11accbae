"""Looking up a batch of rows by key on PostgreSQL, for the feeds' imports.

Django binds parameters on the client: a lookup `__in` a thousand keys is compiled by the ORM
and then quoted value by value by psycopg, which in a statements load took more time than the
database took to answer (docs/performance.md). Here the keys travel as one text, split by the
server (`string_to_array`), on a server-side binding cursor of Django's own connection (hence in
its transaction), and the statement is never prepared: a generic plan made while a table was
nearly empty, at the start of a first load, would scan it whole for every later batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection

# The ASCII unit separator is a control character: the feeds' checks refuse those in every
# identifier, so it can never be part of one.
SEPARATOR = "\x1f"
KEYS_ARRAY = "string_to_array(%s, chr(31))"


def joined_keys(values: Sequence[str]) -> str:
    """The keys as the one text KEYS_ARRAY splits back; refuses an empty key or one holding the
    separator, which would split into something else."""
    joined = SEPARATOR.join(values)
    if joined.count(SEPARATOR) != max(len(values) - 1, 0) or (values and "" in values):
        raise ValueError("A key holds the separator, or is empty.")
    return joined


def server_cursor() -> psycopg.Cursor[Any]:
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def rows_for_keys(sql: str, *keys: Sequence[str]) -> list[tuple[Any, ...]]:
    """Runs `sql`, whose parameters are KEYS_ARRAY placeholders, one per list of keys."""
    # Statements on this cursor bypass Django's wrappers: they go in its query log by hand, so
    # that query-count assertions (and DEBUG's log) still see them.
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": "0.000"})
    with connection.wrap_database_errors, server_cursor() as cursor:
        cursor.execute(sql, [joined_keys(k) for k in keys], prepare=False)
        return cursor.fetchall()
