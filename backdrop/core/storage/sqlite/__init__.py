"""The embedded default engine: one SQLite file, safe for several processes.

``connection`` opens the file (WAL, busy timeout, per thread and process),
``records`` and ``documents`` are the two stores on it, ``rows`` the layout of
a data set's table, ``sql`` and ``aggregate`` the queries, ``rollups`` the
data-set state and rollup upkeep, ``rollup_rows`` reading rollups.
"""

from __future__ import annotations

from backdrop.core.storage.sqlite.connection import Connections
from backdrop.core.storage.sqlite.documents import SQLiteDocuments
from backdrop.core.storage.sqlite.records import SQLiteRecords

__all__ = ["SQLiteEngine"]


class SQLiteEngine:
    """``sqlite:///relative/path`` or ``sqlite:////absolute/path``."""

    scheme = "sqlite"

    def __init__(self, url: str, timeout: float | None = None):
        self.connections = Connections(url, timeout)
        self.path = self.connections.path
        self.records = SQLiteRecords(self.connections)
        self.documents = SQLiteDocuments(self.connections)

    def ping(self) -> None:
        self.connections.select("SELECT 1")
        self.connections.check_file()

    def close(self) -> None:
        self.connections.close()
