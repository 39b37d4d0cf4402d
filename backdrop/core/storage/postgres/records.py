"""The record store: every data set's records in ``backdrop_records``.

Every write transaction starts with ``state.begin``: the data set's advisory
lock (shared for a plain batch, exclusive for whatever touches rows it did not
name — replacing, capping, emptying, dropping — and for every write of a data
set with a built rollup), then the version bump, which also says whether a
built rollup must be kept (``postgres.rollups``: subtract the stored records
of the batch's ids, upsert, add them again; subtract what a DELETE removes).
Batches upsert in id order. ``capped_size`` counts the stored size of
``data`` (``pg_column_size``).
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterable
from datetime import UTC, datetime
from typing import Any, LiteralString

from psycopg import sql

from backdrop.core.query import Collect, Sort, Where
from backdrop.core.rollups import DataSetState, RollupSpec
from backdrop.core.storage.base import Record, Row
from backdrop.core.storage.postgres import expressions, nul, rollups, state, writes
from backdrop.core.storage.postgres.aggregate import Aggregation
from backdrop.core.storage.postgres.connection import Connections
from backdrop.core.storage.postgres.schema import (
    RETURNED_COLUMNS,
    TIME_COLUMNS,
)
from backdrop.errors import InvalidRecords

SCAN_BATCH = 1000


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def _record(row: tuple[Any, ...]) -> Record:
    record_id, timestamp, updated_at, start_at, end_at, data = row
    record: Record = dict(data)
    record["_id"] = record_id
    for key, value in zip(TIME_COLUMNS, (timestamp, updated_at, start_at, end_at), strict=True):
        if value is not None:
            record[key] = _utc(value)
    return record


def _find_statement(
    data_set: str, where: Where, sort: Sort | None, limit: int | None
) -> tuple[sql.Composed, list[Any]]:
    condition = expressions.where(data_set, where)
    statement = sql.SQL(
        "SELECT {columns} FROM backdrop_records WHERE {condition} ORDER BY {order}"
    ).format(
        columns=sql.SQL(RETURNED_COLUMNS),
        condition=condition.joined(" AND "),
        order=expressions.order(sort),
    )
    params = list(condition.params)
    if limit is not None:
        statement += sql.SQL(" LIMIT %s")
        params.append(limit)
    return statement, params


class PostgresRecords:
    """``RecordStore`` over PostgreSQL (see ``storage.base`` for the contract)."""

    def __init__(self, connections: Connections):
        self._connections = connections

    def create(self, data_set: str) -> None:
        self.drop(data_set)  # the tables and indexes are shared by every data set

    def drop(self, data_set: str) -> None:
        """The records and rollup rows go, the spec too; the version stays."""
        if not nul.storable(data_set):
            return
        with self._connections.connection() as conn:
            state.begin(conn, data_set, exclusive=True)
            conn.execute("DELETE FROM backdrop_records WHERE data_set = %s", (data_set,))
            rollups.discard(conn, data_set)
            state.put(conn, data_set, None, ready=False)

    def save(
        self,
        data_set: str,
        records: list[Record],
        capped_size: int | None = 0,
        *,
        replace: bool = False,
    ) -> None:
        problems = nul.record_problems(records)
        if problems:
            raise InvalidRecords(problems)
        capped = bool(capped_size and capped_size > 0)
        with self._connections.connection() as conn:
            spec = state.begin(conn, data_set, exclusive=replace or capped)
            if replace:
                conn.execute("DELETE FROM backdrop_records WHERE data_set = %s", (data_set,))
                rollups.discard(conn, data_set)
            zeros = writes.upsert(conn, data_set, records, spec)
            if capped:
                zeros += writes.cap(conn, data_set, capped_size or 0, spec)
            rollups.prune(conn, data_set, zeros)

    def save_batches(
        self, data_set: str, batches: Iterable[list[Record]], capped_size: int | None = 0
    ) -> int:
        """``BatchSaving``: every batch in one transaction, locked as ``save``
        is, each batch upserted in id order."""
        capped = bool(capped_size and capped_size > 0)
        stored = 0
        with self._connections.connection() as conn:
            spec = state.begin(conn, data_set, exclusive=capped)
            zeros: list[rollups.Key] = []
            for records in batches:
                problems = nul.record_problems(records)
                if problems:
                    raise InvalidRecords(problems)
                zeros += writes.upsert(conn, data_set, records, spec)
                stored += len(records)
            if capped:
                zeros += writes.cap(conn, data_set, capped_size or 0, spec)
            rollups.prune(conn, data_set, zeros)
        return stored

    def get(self, data_set: str, record_id: str) -> Record | None:
        if not nul.storable(data_set, record_id):
            return None
        with self._connections.connection() as conn:
            row = conn.execute(
                f"SELECT {RETURNED_COLUMNS} FROM backdrop_records "  # noqa: S608 - constant
                "WHERE data_set = %s AND id = %s",
                (data_set, record_id),
            ).fetchone()
        return _record(row) if row else None

    def delete(self, data_set: str, record_id: str) -> bool:
        if not nul.storable(data_set, record_id):
            return False
        with self._connections.connection() as conn:
            spec = state.begin(conn, data_set, exclusive=False)
            return writes.delete(conn, data_set, record_id, spec)

    def empty(self, data_set: str) -> None:
        if not nul.storable(data_set):
            return
        with self._connections.connection() as conn:
            state.begin(conn, data_set, exclusive=True)
            conn.execute("DELETE FROM backdrop_records WHERE data_set = %s", (data_set,))
            rollups.discard(conn, data_set)

    def count(self, data_set: str) -> int:
        total = self._scalar("SELECT count(*) FROM backdrop_records WHERE data_set = %s", data_set)
        return int(total or 0)

    def last_updated(self, data_set: str) -> datetime | None:
        newest = self._scalar(
            "SELECT max(updated_at) FROM backdrop_records WHERE data_set = %s", data_set
        )
        return _utc(newest)

    def _scalar(self, query: LiteralString, data_set: str) -> Any:
        if not nul.storable(data_set):
            return None
        with self._connections.connection() as conn:
            row = conn.execute(query, (data_set,)).fetchone()
        return row[0] if row else None

    def scan(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> Generator[Record, None, None]:
        """A server-side cursor, fetched ``SCAN_BATCH`` rows at a time."""
        statement, params = _find_statement(data_set, where, sort, limit)
        with (
            self._connections.connection() as conn,
            conn.cursor(name=f"scan_{uuid.uuid4().hex}") as cursor,
        ):
            cursor.itersize = SCAN_BATCH
            cursor.execute(statement, params)
            for row in cursor:
                yield _record(row)

    def find(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> list[Record]:
        statement, params = _find_statement(data_set, where, sort, limit)
        with self._connections.connection() as conn:
            rows = conn.execute(statement, params).fetchall()
        return [_record(row) for row in rows]

    def page(
        self,
        data_set: str,
        after: str | None,
        limit: int,
        updated_since: datetime | None = None,
    ) -> list[Record]:
        if not nul.storable(data_set):
            return []
        statement = sql.SQL(
            "SELECT {columns} FROM backdrop_records WHERE data_set = %s AND id > %s"
        ).format(columns=sql.SQL(RETURNED_COLUMNS))
        params: list[Any] = [data_set, after or ""]
        if updated_since is not None:
            statement += sql.SQL(" AND updated_at >= %s")
            params.append(updated_since)
        statement += sql.SQL(" ORDER BY id LIMIT %s")
        with self._connections.connection() as conn:
            rows = conn.execute(statement, [*params, limit]).fetchall()
        return [_record(row) for row in rows]

    def aggregate(
        self,
        data_set: str,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
        collects: tuple[Collect, ...],
    ) -> list[Row]:
        aggregation = Aggregation.build(data_set, where, group_by, period, collects)
        with self._connections.connection() as conn:
            fetched = conn.execute(aggregation.statement, aggregation.params).fetchall()
        return aggregation.rows(fetched)

    def state(self, data_set: str) -> DataSetState:
        if not nul.storable(data_set):
            return DataSetState()
        with self._connections.connection() as conn:
            return state.read(conn, data_set)

    def set_rollup(self, data_set: str, spec: RollupSpec | None) -> None:
        with self._connections.connection() as conn:
            state.lock(conn, data_set, exclusive=True)
            if state.read(conn, data_set).rollup == spec:
                return
            rollups.discard(conn, data_set)
            state.put(conn, data_set, spec, ready=False)

    def build_rollup(self, data_set: str) -> bool:
        """In one transaction without the request time limits: a build of a
        large data set takes seconds, and the data set's writers wait."""
        with self._connections.connection(unbounded=True) as conn:
            state.lock(conn, data_set, exclusive=True)
            spec = state.read(conn, data_set).rollup
            if spec is None:
                return False
            rollups.build(conn, spec, data_set)
            state.put(conn, data_set, spec, ready=True)
        return True

    def rollup_rows(
        self,
        data_set: str,
        group: int,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
    ) -> list[Row]:
        with self._connections.connection() as conn:
            spec = state.read(conn, data_set).rollup
            if spec is None or group >= len(spec.groups):
                return []
            return rollups.read(conn, spec, data_set, group, where, group_by, period)
