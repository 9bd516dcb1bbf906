"""The health check that needs no round trip still replaces a connection
the server has closed."""

import select
import time

import pytest
from django.db import connection, connections

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the PostgreSQL backend"
)


def _start_request():
    # What Django does when a request starts with a reused connection.
    connection.health_check_done = False
    connection.close_if_health_check_failed()


def _backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _count_questions(monkeypatch):
    asked = []
    wrapper = type(connections["default"])
    monkeypatch.setattr(wrapper, "is_usable", lambda self: asked.append(1) or True)
    return asked


@pytest.mark.django_db
def test_a_connection_in_a_transaction_is_asked(monkeypatch):
    _backend_pid()
    asked = _count_questions(monkeypatch)
    _start_request()  # inside the test's transaction: not idle
    assert asked == [1]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_idle_connection_is_trusted_without_a_query(monkeypatch):
    _backend_pid()
    driver_connection = connection.connection
    asked = _count_questions(monkeypatch)
    _start_request()
    assert asked == []
    assert connection.connection is driver_connection


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_connection_the_server_closed_is_replaced():
    pid = _backend_pid()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    # The server's goodbye arrives on the socket shortly after.
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    deadline = time.monotonic() + 5
    while not poller.poll(50) and time.monotonic() < deadline:
        pass
    _start_request()
    assert _backend_pid() != pid


@pytest.mark.django_db
def test_a_silent_host_is_given_up_on_within_seconds():
    # libpq's own view of the live connection: a query unacknowledged for
    # 10 s, or a reply awaited from a host that no longer answers keepalives
    # for 5 + 3 x 2 s, ends the connection instead of the TCP timeout.
    _backend_pid()
    dsn = connection.connection.info.dsn
    for option in (
        "tcp_user_timeout=10000",
        "keepalives=1",
        "keepalives_idle=5",
        "keepalives_interval=2",
        "keepalives_count=3",
    ):
        assert option in dsn
