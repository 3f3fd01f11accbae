"""Django's PostgreSQL backend, whose health check before each request costs no round trip.

With CONN_HEALTH_CHECKS, Django runs `SELECT 1` on a kept connection at the start of every request,
so that a connection the server has dropped (a restart, a failover, a terminated backend) is
replaced before the page uses it instead of failing it. That is one more round trip, and one more
wake-up of the server process, on every page. An idle connection has nothing to read, though: the
server sends something unasked only when it ends the session (its "terminating connection" notice,
then end of file) or when a setting it reports changes. So one poll of the socket, without waiting,
tells the same thing: readable means the connection is dropped (or, rarely, only told of a
setting), and it is replaced, as after a failed `SELECT 1`. After an error during a request,
Django still checks with `SELECT 1` (`is_usable`, unchanged).
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLDatabaseWrapper
from psycopg import pq


class DatabaseWrapper(PostgreSQLDatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        # Django's own path where it does nothing, or where a pool checks its connections.
        wrapper: Any = self  # attributes the type stubs do not declare
        if (
            wrapper.pool
            or wrapper.connection is None
            or not wrapper.health_check_enabled
            or wrapper.health_check_done
        ):
            super().close_if_health_check_failed()
            return
        if not self.idle_connection_alive():
            self.close()
        wrapper.health_check_done = True

    def idle_connection_alive(self) -> bool:
        """True when the kept connection is open, idle, and the server has sent nothing since."""
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return False
        try:
            readable, _writable, _failed = select.select([connection.pgconn.socket], [], [], 0)
        except (OSError, ValueError):  # a socket already closed
            return False
        return not readable
