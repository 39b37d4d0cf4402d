"""The record store: one table per data set (layout in ``rows``).

A data set whose table was never created reads as empty, and its first write
creates the table, so records can arrive before or without ``create``.
"""

# ruff: noqa: S608 - statements are assembled from validated identifiers and
# placeholders only; every value is a bound parameter.

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterable
from datetime import datetime
from typing import Any

import orjson

from backdrop.core.periods import PERIOD_KEYS
from backdrop.core.query import Collect, Sort, Where
from backdrop.core.rollups import DataSetState, RollupSpec
from backdrop.core.storage.base import Record, Row
from backdrop.core.storage.sqlite import rows as rows_
from backdrop.core.storage.sqlite.aggregate import aggregate
from backdrop.core.storage.sqlite.connection import Connections, is_missing_table, translated
from backdrop.core.storage.sqlite.rollup_rows import rollup_rows
from backdrop.core.storage.sqlite.rollups import Upkeep, build, read_state, reset, set_rollup
from backdrop.core.storage.sqlite.sql import Params, order_sql, select_sql, where_sql
from backdrop.errors import InvalidRecords

SCAN_BATCH = 1000


def _batch(table: str) -> str:
    """The stored records with the ids of a batch (``_ids``), by index lookups."""
    return f"FROM json_each(:ids) AS batch CROSS JOIN {table} ON {table}._id = batch.value"


def _ids(records: list[Record]) -> dict[str, str]:
    ids = list(dict.fromkeys(record["_id"] for record in records))
    return {"ids": orjson.dumps(ids).decode()}


def _create_table(connection: sqlite3.Connection, name: str) -> None:
    table = rows_.table(name)
    periods = ", ".join(f"{key} INTEGER" for key in PERIOD_KEYS)
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (_id TEXT PRIMARY KEY, _timestamp INTEGER, "
        f"_updated_at INTEGER NOT NULL, {periods}, data TEXT NOT NULL)"
    )
    connection.execute(
        f"CREATE INDEX IF NOT EXISTS {rows_.table(name, ':timestamp')} ON {table} (_timestamp, _id)"
    )
    connection.execute(
        f"CREATE INDEX IF NOT EXISTS {rows_.table(name, ':updated_at')} ON {table} (_updated_at)"
    )


def _cap(connection: sqlite3.Connection, table: str, capped_size: int, upkeep: Upkeep) -> None:
    """Drop the oldest records (by _updated_at, then insertion order) until
    the bytes of the rest fit in ``capped_size``."""
    total = connection.execute(
        f"SELECT coalesce(sum(length(CAST(data AS BLOB))), 0) FROM {table}"
    ).fetchone()[0]
    if total <= capped_size:
        return
    oldest = (
        f"rowid IN (SELECT rowid FROM ("
        f"SELECT rowid, sum(length(CAST(data AS BLOB))) OVER ("
        f"ORDER BY _updated_at DESC, rowid DESC) AS newer_bytes FROM {table}"
        f") WHERE newer_bytes > :cap)"
    )
    upkeep.subtract(f"FROM {table} WHERE {oldest}", {"cap": capped_size})
    connection.execute(f"DELETE FROM {table} WHERE {oldest}", {"cap": capped_size})


def _rows(records: list[Record]) -> list[tuple[Any, ...]]:
    try:
        return rows_.rows(records)
    except TypeError:  # orjson.JSONEncodeError: a value JSON cannot hold
        raise InvalidRecords(rows_.unstorable(records)) from None


def _insert(table: str) -> str:
    return (
        f"INSERT OR REPLACE INTO {table} ({', '.join(rows_.COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(rows_.COLUMNS))})"
    )


class SQLiteRecords:
    """``RecordStore`` on one SQLite file."""

    def __init__(self, connections: Connections):
        self.connections = connections

    def _select(self, sql: str, params: Any = ()) -> list[Any]:
        """Rows of a records table; a table never written to has none."""
        try:
            return self.connections.select(sql, params)
        except sqlite3.OperationalError as error:
            if is_missing_table(error):
                return []
            raise

    def _change(self, data_set: str, condition: str, params: dict[str, Any]) -> int:
        """Delete the records matching ``condition``; how many there were."""
        try:
            with self.connections.transaction() as connection:
                upkeep = Upkeep(connection, data_set)
                if condition:
                    upkeep.subtract(f"FROM {rows_.table(data_set)} WHERE {condition}", params)
                else:
                    upkeep.discard()
                where = f"WHERE {condition}" if condition else ""
                sql = f"DELETE FROM {rows_.table(data_set)} {where}"
                rowcount: int = connection.execute(sql, params).rowcount
                upkeep.finish()
                return rowcount
        except sqlite3.OperationalError as error:
            if is_missing_table(error):
                return 0
            raise

    def create(self, data_set: str) -> None:
        with self.connections.transaction() as connection:
            Upkeep(connection, data_set)
            reset(connection, data_set)
            connection.execute(f"DROP TABLE IF EXISTS {rows_.table(data_set)}")
            _create_table(connection, data_set)

    def drop(self, data_set: str) -> None:
        with self.connections.transaction() as connection:
            Upkeep(connection, data_set)
            reset(connection, data_set)
            connection.execute(f"DROP TABLE IF EXISTS {rows_.table(data_set)}")

    def save(
        self,
        data_set: str,
        records: list[Record],
        capped_size: int | None = 0,
        *,
        replace: bool = False,
    ) -> None:
        table = rows_.table(data_set)
        rows = _rows(records)
        insert = _insert(table)
        with self.connections.transaction() as connection:
            upkeep = Upkeep(connection, data_set)
            ids = _ids(records) if upkeep.maintaining else {}
            try:
                if replace:
                    connection.execute(f"DELETE FROM {table}")
                    upkeep.discard()
                else:
                    upkeep.subtract(_batch(table), ids)
                connection.executemany(insert, rows)
            except sqlite3.OperationalError as error:
                if not is_missing_table(error):
                    raise
                _create_table(connection, data_set)
                connection.executemany(insert, rows)
            upkeep.add(_batch(table), ids)
            if capped_size and capped_size > 0:
                _cap(connection, table, capped_size, upkeep)
            upkeep.finish()

    def save_batches(
        self, data_set: str, batches: Iterable[list[Record]], capped_size: int | None = 0
    ) -> int:
        """``BatchSaving``: one write transaction for every batch (other writers
        wait for it, up to the busy timeout)."""
        table = rows_.table(data_set)
        insert = _insert(table)
        stored = 0
        with self.connections.transaction() as connection:
            upkeep = Upkeep(connection, data_set)
            _create_table(connection, data_set)
            for records in batches:
                rows, ids = _rows(records), _ids(records) if upkeep.maintaining else {}
                upkeep.subtract(_batch(table), ids)
                connection.executemany(insert, rows)
                upkeep.add(_batch(table), ids)
                stored += len(records)
            if capped_size and capped_size > 0:
                _cap(connection, table, capped_size, upkeep)
            upkeep.finish()
        return stored

    def get(self, data_set: str, record_id: str) -> Record | None:
        sql = f"SELECT data FROM {rows_.table(data_set)} WHERE _id = ?"
        found = self._select(sql, (record_id,))
        return rows_.record(found[0][0]) if found else None

    def delete(self, data_set: str, record_id: str) -> bool:
        return self._change(data_set, "_id = :id", {"id": record_id}) > 0

    def empty(self, data_set: str) -> None:
        self._change(data_set, "", {})

    def count(self, data_set: str) -> int:
        found = self._select(f"SELECT count(*) FROM {rows_.table(data_set)}")
        return int(found[0][0]) if found else 0

    def last_updated(self, data_set: str) -> datetime | None:
        found = self._select(f"SELECT max(_updated_at) FROM {rows_.table(data_set)}")
        return rows_.moment(found[0][0]) if found and found[0][0] is not None else None

    def _find_sql(
        self, data_set: str, where: Where, sort: Sort | None, limit: int | None
    ) -> tuple[str, Any]:
        bind = Params()
        sql = select_sql(rows_.table(data_set), "data", where_sql(where, bind))
        sql += f" ORDER BY {order_sql(sort, bind)}"
        if limit is not None:
            sql += f" LIMIT {bind(limit)}"
        return sql, bind.values

    def find(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> list[Record]:
        sql, params = self._find_sql(data_set, where, sort, limit)
        return [rows_.record(row[0]) for row in self._select(sql, params)]

    def scan(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> Generator[Record, None, None]:
        sql, params = self._find_sql(data_set, where, sort, limit)
        try:
            with translated():
                cursor = self.connections.connection().execute(sql, params)
        except sqlite3.OperationalError as error:
            if is_missing_table(error):
                return
            raise
        try:
            while True:
                with translated():
                    rows = cursor.fetchmany(SCAN_BATCH)
                if not rows:
                    return
                for row in rows:
                    yield rows_.record(row[0])
        finally:
            cursor.close()

    def page(
        self,
        data_set: str,
        after: str | None,
        limit: int,
        updated_since: datetime | None = None,
    ) -> list[Record]:
        conditions: list[str] = ["_id > ?"]
        params: list[Any] = [after or ""]
        if updated_since is not None:
            conditions.append("_updated_at >= ?")
            params.append(rows_.micros(updated_since))
        sql = (
            f"SELECT data FROM {rows_.table(data_set)} WHERE {' AND '.join(conditions)} "
            "ORDER BY _id LIMIT ?"
        )
        return [rows_.record(row[0]) for row in self._select(sql, (*params, limit))]

    def aggregate(
        self,
        data_set: str,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
        collects: tuple[Collect, ...],
    ) -> list[Row]:
        return aggregate(self._select, data_set, where, group_by, period, collects)

    def state(self, data_set: str) -> DataSetState:
        return read_state(self.connections, data_set)

    def set_rollup(self, data_set: str, spec: RollupSpec | None) -> None:
        set_rollup(self.connections, data_set, spec)

    def build_rollup(self, data_set: str) -> bool:
        return build(self.connections, data_set, _create_table)

    def rollup_rows(
        self,
        data_set: str,
        group: int,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
    ) -> list[Row]:
        return rollup_rows(self.connections, data_set, group, where, group_by, period)
