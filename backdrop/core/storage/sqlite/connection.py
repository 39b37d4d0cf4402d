"""Connections to one SQLite file: per thread, per process, opened lazily.

WAL mode lets readers run beside one writer; every write takes the write lock
up front (``BEGIN IMMEDIATE``) and waits up to the busy timeout for it, so
gunicorn workers of both apps can share a file. Nothing is opened before the
first statement, so apps can build their engine before gunicorn forks.

Given a ``timeout`` (the web apps pass BACKDROP_DATABASE_TIMEOUT), every wait
is bounded by it: the busy timeout for the write lock, and a progress-handler
deadline that interrupts a statement running longer; both end in a 503
saying which. Without one (CLI, worker) the busy timeout is 30 s and
statements run to their end. The file's
file is held open from when the engine is built (or the file is first
made); every
statement that finds the file gone or replaced is refused with a 503 and an
error log line: commits would land in an unlinked file that no other process
(and no restart) would ever see, and reads would disagree between threads.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from backdrop.errors import StorageUnavailable

log = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS: float = 30  # with no timeout given (CLI, worker)
_PROGRESS_STEPS = 10_000  # SQLite VM steps between two deadline checks (~1 ms)

# OperationalError texts that mean "the database cannot be used right now"
# rather than a bug in a statement: those become 503s that clients retry,
# each with what it was.
_UNAVAILABLE = (
    ("interrupted", "the query took longer than the database timeout"),
    ("database is locked", "the database is locked by another writer"),
    ("database or disk is full", "the disk of the database is full"),
    ("disk i/o error", "the database file cannot be read or written (disk I/O error)"),
    ("readonly database", "the database file is read-only"),
    ("unable to open", "the database file cannot be opened"),
    ("not a database", "the file is not an SQLite database"),
)


class FileGone(StorageUnavailable):
    default_message = (
        "The database file was deleted or replaced while the app was running: "
        "writes are refused so that none is lost; restart the app"
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
CREATE TABLE IF NOT EXISTS data_set_state (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    rollup TEXT,
    ready INTEGER NOT NULL DEFAULT 0,
    reason TEXT
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
        for reason, meaning in _UNAVAILABLE:
            if reason in text:
                log.warning("SQLite unavailable: %s (%s)", meaning, error)
                raise StorageUnavailable(
                    f"The database is unavailable: {meaning}, please retry later"
                ) from error
        raise


def is_missing_table(error: sqlite3.OperationalError) -> bool:
    return str(error).startswith("no such table")


class Connections:
    """This process's connections to the file, one per thread."""

    def __init__(self, url: str, timeout: float | None = None):
        self.path = path_of(url)
        self.timeout = timeout  # None: BUSY_TIMEOUT_SECONDS, no statement deadline
        # The file as it was when the engine was built (each gunicorn worker
        # builds its own at boot), else when first opened: held open, so its
        # inode cannot be reused by a new file at the same path.
        self._original: int | None = None  # a descriptor, closed by close() or on collection
        self._release_original: weakref.finalize[Any, Any] | None = None
        self._remember_file()
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
            timeout=self._seconds(),
            isolation_level=None,
            check_same_thread=False,
        )
        if self.timeout is not None:
            connection.set_progress_handler(self._past_deadline, _PROGRESS_STEPS)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is on disk (WAL fsynced) before the write answers 200,
            # as SPEC 4 requires; NORMAL would survive a crash but not a power loss.
            connection.execute("PRAGMA synchronous = FULL")
            # 16 MB of page cache keeps the GROUP BY sorts of big data sets in memory.
            connection.execute("PRAGMA cache_size = -16000")
            exists = connection.execute(
                "SELECT count(*) FROM sqlite_master "
                "WHERE type = 'table' AND name = 'data_set_state'"
            ).fetchone()[0]
            if not exists:
                connection.executescript(_SCHEMA)
        except BaseException:
            connection.close()
            raise
        self._remember_file()
        return connection

    def _seconds(self) -> float:
        return BUSY_TIMEOUT_SECONDS if self.timeout is None else self.timeout

    def _past_deadline(self) -> int:
        """SQLite's progress handler: non-zero interrupts the statement."""
        deadline = getattr(self._local, "deadline", None)
        return int(deadline is not None and time.monotonic() > deadline)

    @contextmanager
    def _bounded(self) -> Iterator[None]:
        self._local.deadline = time.monotonic() + self._seconds()
        try:
            yield
        finally:
            self._local.deadline = None

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def _remember_file(self) -> None:
        if self._original is None:
            try:
                self._original = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:  # not there (yet), or not a file: opening it will say
                return
            self._release_original = weakref.finalize(self, os.close, self._original)

    def check_file(self) -> None:
        """503 if the file this process opened is no longer the one at its path."""
        if self._original is None:
            return
        held = os.fstat(self._original)
        if held.st_nlink == 0 or self._file_identity() != (held.st_dev, held.st_ino):
            log.error(
                "The SQLite file %s was deleted or replaced while the app ran; "
                "refusing writes until the app is restarted",
                self.path,
            )
            raise FileGone()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the write lock from its first statement."""
        with translated(), self._bounded():
            connection = self.connection()
            self.check_file()
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
        with translated(), self._bounded():
            connection = self.connection()
            self.check_file()
            return connection.execute(sql, params).fetchall()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """Several reads that see one state of the file (a WAL read transaction)."""
        with translated(), self._bounded():
            connection = self.connection()
            self.check_file()
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                if connection.in_transaction:
                    connection.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, {}
            self._generation += 1
        for connection in connections.values():
            connection.close()
        if self._release_original is not None:  # the next open holds the file it finds
            self._release_original()
            self._original = self._release_original = None
