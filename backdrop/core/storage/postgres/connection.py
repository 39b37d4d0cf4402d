"""Connections: a psycopg 3 pool per process, schema on first use, outages as 503.

The pool is opened lazily in each process (gunicorn forks after the app is
built), with a short connect timeout and a check on each checkout (a round trip,
skipped for a connection that worked in the last second and has heard
nothing since), so a restarted server is recovered from without
intervention. Failures to reach
the server become ``StorageUnavailable``; after one, the next call first tries
a direct connection so an outage answers 503 at once rather than after the
pool's wait. Given a ``timeout`` (the web apps pass BACKDROP_DATABASE_TIMEOUT),
every statement runs under ``statement_timeout`` and ``lock_timeout`` and
every wait under a client-side deadline (``failures``).
"""

from __future__ import annotations

import json
import logging
import os
import select
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout

from backdrop.core.storage.postgres.failures import (
    UNREACHABLE,
    Deadline,
    bounded_check,
    is_connection_failure,
    translate,
)
from backdrop.core.storage.postgres.schema import SCHEMA, SCHEMA_LOCK
from backdrop.errors import StorageUnavailable

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3  # seconds for one connection attempt to the server
POOL_TIMEOUT = 3.0  # seconds a request waits for a pooled connection
RECENTLY_WORKED = 1.0  # seconds after a good use in which a checkout is not checked


def _dumps(value: Any) -> bytes:
    """orjson, except for integers beyond 64 bits (e.g. a filter on 1e300),
    which only the standard library writes."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value).encode()


def _configurer(timeout: float | None) -> Callable[[psycopg.Connection[Any]], None]:
    def configure(conn: psycopg.Connection[Any]) -> None:
        """Per new connection: UTC session (``to_jsonb`` of times), orjson codecs
        and the time limits."""
        set_json_dumps(_dumps, conn)
        set_json_loads(orjson.loads, conn)
        conn.execute("SET TIME ZONE 'UTC'")
        if timeout is not None:
            milliseconds = max(1, int(timeout * 1000))
            conn.execute(f"SET statement_timeout = {milliseconds}")
            conn.execute(f"SET lock_timeout = {milliseconds}")
        conn.commit()

    return configure


class Connections:
    """This process's pool on one database, shared by the records and documents."""

    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 4, timeout: float | None = None
    ):
        self.timeout = timeout
        params = conninfo_to_dict(url)
        params.setdefault("connect_timeout", CONNECT_TIMEOUT)
        params.setdefault("application_name", "backdrop")
        self._conninfo = make_conninfo("", **params)
        self._host = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"
        self._sizes = (min_size, max_size)
        self._lock = threading.Lock()
        self._pool: ConnectionPool | None = None
        self._pid: int | None = None
        self._schema_ready = False
        self._verified = False
        self._recovering = False  # a call failed; renew the pool once it answers
        self._forked_pools: list[ConnectionPool] = []
        # When each pooled connection last finished a block without error.
        self._worked: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = (
            weakref.WeakKeyDictionary()
        )
        self._bounded_check = bounded_check(timeout)

    def _check(self, conn: psycopg.Connection[Any]) -> None:
        """The pool's checkout check: a round trip, unless the connection
        worked less than ``RECENTLY_WORKED`` ago and nothing has arrived on
        its socket since (a server ending a session says so, or closes it,
        which makes the idle socket readable). A cached read checks out twice
        in a millisecond; the round trips were most of its time."""
        recent = time.monotonic() - self._worked.get(conn, -RECENTLY_WORKED) < RECENTLY_WORKED
        if not recent or select.select([conn.pgconn.socket], [], [], 0)[0]:
            self._bounded_check(conn)

    def _get_pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is not None and self._pid != os.getpid():
                # Inherited from the parent: its sockets are the parent's; never
                # use or close them here, just keep the object from being collected.
                self._forked_pools.append(self._pool)
                self._pool = None
                self._verified = False
            if self._pool is None:
                pool = ConnectionPool(
                    self._conninfo,
                    min_size=self._sizes[0],
                    max_size=self._sizes[1],
                    timeout=POOL_TIMEOUT,
                    reconnect_timeout=60.0,
                    configure=_configurer(self.timeout),
                    check=self._check,
                    name="backdrop",
                    open=False,
                )
                pool.open(wait=False)
                self._pool, self._pid = pool, os.getpid()
            return self._pool

    @contextmanager
    def connection(self, *, unbounded: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in a transaction (committed on success);
        ``unbounded``: without the time limits (a rollup build)."""
        deadline = Deadline(None if unbounded else self.timeout)
        pool: ConnectionPool | None = None
        try:
            pool = self._get_pool()
            if not self._verified:
                pool = self._verify(pool)
            with deadline, pool.connection() as conn:  # the commit is under the deadline too
                deadline.arm(conn)
                if unbounded and self.timeout is not None:
                    conn.execute("SET LOCAL statement_timeout = 0")
                    conn.execute("SET LOCAL lock_timeout = 0")
                yield conn
                self._worked[conn] = time.monotonic()
        except PoolTimeout as error:
            if pool is not None and self._all_busy(pool):
                logger.warning("PostgreSQL at %s: every pooled connection busy", self._host)
                raise StorageUnavailable(
                    f"The database is busy: all {self._sizes[1]} PostgreSQL connections of "
                    "this process are in use, please retry later"
                ) from error
            self._verified, self._recovering = False, True
            logger.warning("PostgreSQL at %s unavailable: %s", self._host, error)
            raise StorageUnavailable(UNREACHABLE) from error
        except (psycopg.DataError, psycopg.OperationalError) as error:
            cut = deadline.fired
            if cut or is_connection_failure(error):
                self._verified, self._recovering = False, True
            logger.warning("PostgreSQL at %s: %s", self._host, error)
            raise translate(error, self.timeout, cut) from error

    def _all_busy(self, pool: ConnectionPool) -> bool:
        """The wait ended because every connection was lent out, not because
        none could be made (the server is reachable, just saturated)."""
        stats = pool.get_stats()
        return stats.get("pool_size", 0) >= self._sizes[1] and not stats.get("pool_available")

    def _verify(self, pool: ConnectionPool) -> ConnectionPool:
        """Connect directly once per process, and again after any failure, so an
        unreachable server fails fast instead of after the pool's wait; the first
        such connection creates the schema (serialised across processes by an
        advisory lock). Returns the pool to use."""
        with Deadline(self.timeout) as deadline, psycopg.connect(self._conninfo) as conn:
            deadline.arm(conn)
            if not self._schema_ready:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                conn.execute(SCHEMA)
        self._schema_ready = self._verified = True
        if not self._recovering:
            return pool
        # The server is back, but the pool may wait out its reconnection backoff
        # (seconds to minutes) before trying again: replace it with a fresh one.
        self._recovering = False
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.close(timeout=1.0)
        return self._get_pool()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool = None
            self._verified = False
