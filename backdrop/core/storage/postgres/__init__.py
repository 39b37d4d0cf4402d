"""PostgreSQL storage engine (psycopg 3 + psycopg_pool): records and documents as JSONB.

- ``connection``: the per-process pool, schema creation, outages as 503;
- ``schema``: the two tables and why records share one;
- ``records`` / ``documents``: the two stores;
- ``expressions`` / ``aggregate``: the filter and collect tables behind the SQL;
- ``nul``: PostgreSQL text cannot hold NUL characters.
"""

from __future__ import annotations

from backdrop.core.storage.postgres.connection import Connections
from backdrop.core.storage.postgres.documents import PostgresDocuments
from backdrop.core.storage.postgres.records import PostgresRecords

__all__ = ["PostgresEngine"]


class PostgresEngine:
    """``StorageEngine`` over PostgreSQL (see ``storage.base`` for the contract)."""

    scheme = "postgresql"

    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 4, timeout: float | None = None
    ):
        self._connections = Connections(url, min_size=min_size, max_size=max_size, timeout=timeout)
        self.records = PostgresRecords(self._connections)
        self.documents = PostgresDocuments(self._connections)

    def ping(self) -> None:
        with self._connections.connection() as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self._connections.close()
