"""What a psycopg error means for the client, and a deadline on every wait.

Only a failed connection is reported as "cannot reach PostgreSQL" (clients
retry it); a statement that ran past ``statement_timeout``, a lock not had in
time, a server out of resources each get a 503 saying so; a value the server
cannot store or index (e.g. an index row over its size limit) is a 400.

The server enforces ``statement_timeout``, but a server that stops answering
(a blackholed network, a hung host) never sends the cancel: a ``Deadline``
then shuts the connection's socket down from the watchdog thread, so the waiting call
fails at once and the request answers 503 instead of hanging.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import errors
from psycopg_pool import ConnectionPool

from backdrop.core.storage.postgres.watchdog import WATCHDOG, Alarm
from backdrop.errors import BackdropError, BadRequest, StorageUnavailable

logger = logging.getLogger(__name__)

DEADLINE_GRACE = 2.0  # seconds past statement_timeout before the socket is cut
UNREACHABLE = "The database is unavailable (cannot reach PostgreSQL), please retry later"


def is_connection_failure(error: psycopg.Error) -> bool:
    """No SQLSTATE (libpq lost the connection), class 08, or a server shutting down."""
    state = error.sqlstate
    return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


def translate(error: psycopg.Error, timeout: float | None, cut: bool) -> BackdropError:
    """The client-facing error for ``error`` (``cut``: a Deadline fired)."""
    reason = (error.diag.message_primary if error.diag else None) or str(error).strip()
    if cut:
        return StorageUnavailable(
            f"The database is unavailable (PostgreSQL did not answer within {timeout:g} s), "
            "please retry later"
        )
    if isinstance(error, errors.QueryCanceled):
        return StorageUnavailable(
            f"The query took longer than the database timeout ({timeout:g} s, "
            "BACKDROP_DATABASE_TIMEOUT): narrow it (a shorter time range, fewer groups)"
        )
    if isinstance(error, errors.LockNotAvailable):
        return StorageUnavailable("The data set is locked by another write, please retry later")
    if isinstance(error, psycopg.DataError | errors.ProgramLimitExceeded):
        return BadRequest(f"The database cannot store this value: {reason}")
    if error.sqlstate and error.sqlstate.startswith("53"):
        return StorageUnavailable(f"PostgreSQL is out of resources ({reason}), please retry later")
    if is_connection_failure(error):
        return StorageUnavailable(UNREACHABLE)
    return StorageUnavailable(f"PostgreSQL could not do this ({reason}), please retry later")


def _shut_down(fd: int) -> None:
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # closed meanwhile


class Deadline:
    """Cuts the armed connection's socket if the block takes longer than
    ``seconds`` (plus a grace for the server's own timeout to win)."""

    def __init__(self, seconds: float | None):
        self.seconds, self.fired = seconds, False
        self._alarm: Alarm | None = None

    def arm(self, conn: psycopg.Connection[Any]) -> None:
        if self.seconds is None or self._alarm is not None:
            return
        fd = conn.pgconn.socket
        self._alarm = WATCHDOG.after(self.seconds + DEADLINE_GRACE, lambda: self._fire(fd))

    def _fire(self, fd: int) -> None:
        self.fired = True
        logger.warning("PostgreSQL silent for %s s: cutting the connection", self.seconds)
        _shut_down(fd)

    def __enter__(self) -> Deadline:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._alarm is not None:
            self._alarm.cancel()


def bounded_check(seconds: float | None) -> Callable[[psycopg.Connection[Any]], None]:
    """The pool's checkout check (a round trip), under a Deadline."""

    def check(conn: psycopg.Connection[Any]) -> None:
        with Deadline(seconds) as deadline:
            deadline.arm(conn)
            ConnectionPool.check_connection(conn)

    return check
