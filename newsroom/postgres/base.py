"""Django's PostgreSQL backend, checking a reused connection without asking
the server.

With CONN_HEALTH_CHECKS Django sends SELECT 1 before the first query of
every request, a round trip that cost the story page about a tenth of its
time. A connection the server has closed (a restart, a failover, an idle
session terminated) has something to read: the server's goodbye, or the end
of the stream. An idle connection with nothing to read, that the driver has
not seen fail, is taken as healthy; any other is checked with Django's own
SELECT 1. Neither notices a host that vanished without closing anything:
the query then fails after tcp_user_timeout and the keepalives (settings),
as SELECT 1 would. Nor does this notice a connection a firewall dropped
silently while idle, which SELECT 1 would have replaced unseen; connections
live for DATABASE_CONN_MAX_AGE (60 s), well under such idle limits.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and _idle_and_quiet(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def _idle_and_quiet(driver_connection) -> bool:
    if driver_connection.closed or driver_connection.broken:
        return False
    if driver_connection.info.transaction_status != TransactionStatus.IDLE:
        return False
    if not hasattr(select, "poll"):
        return False  # no poll() on this platform: ask the server
    poller = select.poll()
    poller.register(driver_connection.fileno(), select.POLLIN)
    return not poller.poll(0)
