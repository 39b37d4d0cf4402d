"""The engines a run benchmarks, behind one small interface.

A backend makes fresh databases (``fresh`` → a ``BACKDROP_DATABASE_URL``),
measures the bulk-insert baseline, counts stored records, opens the
hand-written-SQL side of the query benchmarks and says which file Datasette
can serve (SQLite only). ``benchmarks.postgres.PostgresBackend`` is the other.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from backdrop.core.data_sets import Registry
from backdrop.core.records import prepare_records
from backdrop.core.storage.sqlite import SQLiteEngine
from benchmarks import bulk
from benchmarks.queries import QueryCase, find_schema
from benchmarks.results import DATA_SET


def load_through_engine(engine: Any, batches: Any, data_set: str) -> None:
    """Create ``data_set`` and store ``batches`` with ``engine.records.save``
    (the growth data of every engine), then close the engine."""
    try:
        config, _ = Registry(engine).create({"name": data_set})
        now = datetime.now(UTC)
        for batch in batches:
            engine.records.save(data_set, prepare_records(batch, config, now))
    finally:
        engine.close()


class SqlSide(Protocol):
    def sql(self, case: QueryCase) -> str: ...

    def run(self, sql: str) -> list[dict]: ...

    def close(self) -> None: ...


class Backend(Protocol):
    key: str
    label: str
    version: str

    def fresh(self, label: str) -> str: ...

    def discard(self, url: str) -> None: ...

    def close(self) -> None: ...

    def count(self, url: str, data_set: str) -> int: ...

    def settle(self, url: str) -> None: ...

    def sql_side(self, url: str) -> SqlSide: ...

    def datasette_file(self, url: str) -> Path | None: ...

    def bulk(
        self, batches: list[list[dict]], data_set: str, engine: bool = True
    ) -> dict[str, float]: ...

    def load(self, url: str, batches: Any, data_set: str) -> None: ...


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


class SQLiteSqlSide:
    """The hand-written SQL (``benchmarks.queries``) on the file, read-only."""

    def __init__(self, path: Path, data_set: str):
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.schema = find_schema(self.connection, data_set)

    def sql(self, case: QueryCase) -> str:
        return case.sql(self.schema)

    def run(self, sql: str) -> list[dict]:
        cursor = self.connection.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        self.connection.close()


class SQLiteBackend:
    """One file per database in the run's work directory."""

    key = "sqlite"
    label = "SQLite"
    version = sqlite3.sqlite_version

    def __init__(self, work: Path):
        self.work = work

    def fresh(self, label: str) -> str:
        path = self.work / f"bench-{label}.db"
        for old in self.work.glob(path.name + "*"):
            old.unlink()
        return f"sqlite:///{path}"

    def discard(self, url: str) -> None:
        path = sqlite_path(url)
        for old in path.parent.glob(path.name + "*"):
            old.unlink()

    def close(self) -> None:
        """Files go with the work directory."""

    def count(self, url: str, data_set: str) -> int:
        side = SQLiteSqlSide(sqlite_path(url), data_set)
        try:
            return side.run(f'SELECT count(*) AS n FROM "{side.schema.table}"')[0]["n"]  # noqa: S608
        finally:
            side.close()

    def settle(self, url: str) -> None:
        connection = sqlite3.connect(sqlite_path(url))
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()

    def sql_side(self, url: str) -> SQLiteSqlSide:
        return SQLiteSqlSide(sqlite_path(url), DATA_SET)

    def datasette_file(self, url: str) -> Path | None:
        return sqlite_path(url)

    def bulk(
        self, batches: list[list[dict]], data_set: str, engine: bool = True
    ) -> dict[str, float]:
        return bulk.measure(batches, self.work / "bulk.db", data_set, engine)

    def load(self, url: str, batches: Any, data_set: str) -> None:
        load_through_engine(SQLiteEngine(url), batches, data_set)
