"""The record store: every data set's records in ``backdrop_records``.

Writers of one data set take a transaction-scoped advisory lock on it: shared
for a plain batch (batches interleave, and upsert in id order so batches
sharing ids cannot deadlock), exclusive for whatever touches rows it did not
name (replacing, capping, emptying, dropping), so those never deadlock with a
batch either. ``capped_size`` counts the stored size of ``data``
(``pg_column_size``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from backdrop.core.query import Collect, Sort, Where
from backdrop.core.storage.base import Record, Row
from backdrop.core.storage.postgres import expressions, nul
from backdrop.core.storage.postgres.aggregate import Aggregation
from backdrop.core.storage.postgres.connection import Connections
from backdrop.core.storage.postgres.schema import (
    PERIOD_COLUMNS,
    RECORD_COLUMNS,
    RETURNED_COLUMNS,
    TIME_COLUMNS,
)
from backdrop.errors import InvalidRecords

RECORDS_LOCK = 0x62647273  # first key of the per-data-set advisory locks ("bdrs")

_UPSERT = sql.SQL(
    "INSERT INTO backdrop_records ({columns}) VALUES ({placeholders}) "
    "ON CONFLICT (data_set, id) DO UPDATE SET {updates}"
).format(
    columns=sql.SQL(", ").join(map(sql.Identifier, ("data_set", *RECORD_COLUMNS))),
    placeholders=sql.SQL(", ").join(sql.Placeholder() for _ in range(len(RECORD_COLUMNS) + 1)),
    updates=sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(column))
        for column in (*RECORD_COLUMNS[1:], "seq")
    ),
)

# Keep the newest records whose stored sizes add up to at most capped_size;
# ties on _updated_at go by write order.
_CAP = (
    "DELETE FROM backdrop_records r USING ("
    "  SELECT id, sum(pg_column_size(data)) OVER ("
    "    ORDER BY updated_at DESC, seq DESC"
    "    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS kept"
    "  FROM backdrop_records WHERE data_set = %s"
    ") sizes WHERE r.data_set = %s AND r.id = sizes.id AND sizes.kept > %s"
)


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


def _row(data_set: str, record: Record) -> tuple[Any, ...]:
    internal = {"_id", *TIME_COLUMNS, *PERIOD_COLUMNS}
    data = {key: value for key, value in record.items() if key not in internal}
    return (
        data_set,
        record["_id"],
        *(record.get(key) for key in TIME_COLUMNS),
        *(record.get(key) for key in PERIOD_COLUMNS),
        Jsonb(data),
    )


def _lock(conn: psycopg.Connection[Any], data_set: str, *, exclusive: bool) -> None:
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    conn.execute(f"SELECT {function}(%s, hashtext(%s))", (RECORDS_LOCK, data_set))


class PostgresRecords:
    """``RecordStore`` over PostgreSQL (see ``storage.base`` for the contract)."""

    def __init__(self, connections: Connections):
        self._connections = connections

    def create(self, data_set: str) -> None:
        self.empty(data_set)  # the table and its indexes are shared by every data set

    def drop(self, data_set: str) -> None:
        self.empty(data_set)

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
        # In id order (stable: a repeated id's last version still wins).
        rows = sorted((_row(data_set, record) for record in records), key=lambda row: row[1])
        with self._connections.connection() as conn:
            _lock(conn, data_set, exclusive=replace or capped)
            if replace:
                conn.execute("DELETE FROM backdrop_records WHERE data_set = %s", (data_set,))
            with conn.cursor() as cursor:
                cursor.executemany(_UPSERT, rows)
            if capped:
                conn.execute(_CAP, (data_set, data_set, capped_size))

    def save_batches(
        self, data_set: str, batches: Iterable[list[Record]], capped_size: int | None = 0
    ) -> int:
        """``BatchSaving``: every batch in one transaction, under the shared lock
        (exclusive when capping), each batch upserted in id order."""
        capped = bool(capped_size and capped_size > 0)
        stored = 0
        with self._connections.connection() as conn:
            _lock(conn, data_set, exclusive=capped)
            for records in batches:
                problems = nul.record_problems(records)
                if problems:
                    raise InvalidRecords(problems)
                rows = sorted((_row(data_set, record) for record in records), key=lambda r: r[1])
                with conn.cursor() as cursor:
                    cursor.executemany(_UPSERT, rows)
                stored += len(records)
            if capped:
                conn.execute(_CAP, (data_set, data_set, capped_size))
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
            deleted = conn.execute(
                "DELETE FROM backdrop_records WHERE data_set = %s AND id = %s",
                (data_set, record_id),
            ).rowcount
        return bool(deleted)

    def empty(self, data_set: str) -> None:
        if not nul.storable(data_set):
            return
        with self._connections.connection() as conn:
            _lock(conn, data_set, exclusive=True)
            conn.execute("DELETE FROM backdrop_records WHERE data_set = %s", (data_set,))

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

    def find(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> list[Record]:
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
