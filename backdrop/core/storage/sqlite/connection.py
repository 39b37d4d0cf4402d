"""Connections to one SQLite file: per thread, per process, opened lazily.

WAL mode lets readers run beside one writer; every write takes the write lock
up front (``BEGIN IMMEDIATE``) and waits up to the busy timeout for it, so
gunicorn workers of both apps can share a file. Nothing is opened before the
first statement, so apps can build their engine before gunicorn forks.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from backdrop.errors import StorageUnavailable

BUSY_TIMEOUT_SECONDS: float = 30

# OperationalError texts that mean "the database cannot be used right now"
# rather than a bug in a statement: those become 503s that clients retry.
_UNAVAILABLE = (
    "unable to open",
    "database is locked",
    "disk i/o error",
    "readonly database",
    "not a database",
    "database or disk is full",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
"""


def path_of(url: str) -> str:
    """The file of ``sqlite:///relative/path`` or ``sqlite:////absolute/path``."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(
            f"Expected sqlite:///relative/path or sqlite:////absolute/path, got {url!r}"
        )
    return url[len(prefix) :].split("?", 1)[0]


@contextmanager
def translated() -> Iterator[None]:
    """Errors meaning the file cannot be used now become ``StorageUnavailable``."""
    try:
        yield
    except sqlite3.DatabaseError as error:
        text = str(error).lower()
        if any(reason in text for reason in _UNAVAILABLE):
            raise StorageUnavailable() from error
        raise


def is_missing_table(error: sqlite3.OperationalError) -> bool:
    return str(error).startswith("no such table")


class Connections:
    """This process's connections to the file, one per thread."""

    def __init__(self, url: str):
        self.path = path_of(url)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._generation = 0
        self._connections: dict[threading.Thread, sqlite3.Connection] = {}

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use in this process."""
        pid = os.getpid()
        if pid != self._pid:
            # Forked (gunicorn): the parent's connections and lock are not ours.
            self._pid, self._lock, self._connections = pid, threading.Lock(), {}
            self._generation += 1
        local = self._local
        if getattr(local, "generation", None) == (pid, self._generation):
            connection: sqlite3.Connection = local.connection
            return connection
        connection = self._open()
        with self._lock:
            # Servers that start a thread per request would otherwise leave a
            # connection behind for every request.
            for thread, old in list(self._connections.items()):
                if not thread.is_alive():
                    old.close()
                    del self._connections[thread]
            self._connections[threading.current_thread()] = connection
        local.connection, local.generation = connection, (pid, self._generation)
        return connection

    def _open(self) -> sqlite3.Connection:
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as error:
            raise StorageUnavailable() from error
        connection = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is on disk (WAL fsynced) before the write answers 200,
            # as SPEC 4 requires; NORMAL would survive a crash but not a power loss.
            connection.execute("PRAGMA synchronous = FULL")
            # 16 MB of page cache keeps the GROUP BY sorts of big data sets in memory.
            connection.execute("PRAGMA cache_size = -16000")
            exists = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'documents'"
            ).fetchone()[0]
            if not exists:
                connection.executescript(_SCHEMA)
        except BaseException:
            connection.close()
            raise
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the write lock from its first statement."""
        with translated():
            connection = self.connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def select(self, sql: str, params: Any = ()) -> list[Any]:
        """The rows of one read statement (a consistent snapshot under WAL)."""
        with translated():
            return self.connection().execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, {}
            self._generation += 1
        for connection in connections.values():
            connection.close()
