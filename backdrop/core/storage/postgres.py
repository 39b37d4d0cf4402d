"""PostgreSQL storage engine (psycopg 3 + psycopg_pool), records as JSONB.

Layout: every data set's records live in one table, ``backdrop_records``,
keyed by ``(data_set, id)``. The record's time fields and period keys are
``timestamptz`` columns (so ranges and grouping use plain btree indexes and
come back as datetimes); the other fields are one ``data`` JSONB value.
One table rather than a table per data set because creating, renaming and
dropping data sets then needs no DDL (no per-request identifiers in SQL, no
catalogue bloat with thousands of small data sets, no DDL racing between
processes), while the composite indexes ``(data_set, timestamp NULLS FIRST,
id)`` (ranges, and the default order with a limit) and ``(data_set,
updated_at)`` (freshness, capping) keep every query's cost proportional to the
rows of its own data set in the range it reads. ``capped_size`` counts the
stored size of ``data`` (``pg_column_size``). Text cannot hold NUL characters
in PostgreSQL: records containing one are refused with a 400 naming them.

Connections come from a pool opened lazily in each process (gunicorn forks
after the app is built), with a short connect timeout and a check on each
checkout, so a restarted server is recovered from without intervention.
Failures to reach the server become ``StorageUnavailable``; after one, the
next call first tries a direct connection so an outage answers 503 at once
rather than after the pool's wait.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb, set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout

from backdrop.core.periods import PERIOD_KEYS
from backdrop.core.query import Collect, Sort, Where
from backdrop.errors import (
    BadRequest,
    Conflict,
    InvalidQuery,
    InvalidRecords,
    NotFound,
    StorageUnavailable,
)

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3  # seconds for one connection attempt to the server
POOL_TIMEOUT = 3.0  # seconds a request waits for a pooled connection
SCHEMA_LOCK = 0x6261636B64726F70  # pg_advisory_xact_lock key ("backdrop")

# Record fields kept in their own columns; everything else is in ``data``.
TIME_COLUMNS = {
    "_timestamp": "timestamp",
    "_updated_at": "updated_at",
    "_start_at": "start_at",
    "_end_at": "end_at",
}
PERIOD_COLUMNS = {key: key.strip("_") for key in PERIOD_KEYS}  # _day_start_at → day_start_at
RECORD_COLUMNS = ("id", *TIME_COLUMNS.values(), *PERIOD_COLUMNS.values(), "data")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS backdrop_data_sets (
    name TEXT PRIMARY KEY,
    data_group TEXT NOT NULL,
    data_type TEXT NOT NULL,
    config JSONB NOT NULL,
    CONSTRAINT backdrop_data_sets_address UNIQUE (data_group, data_type)
);
CREATE TABLE IF NOT EXISTS backdrop_transforms (
    id BIGSERIAL PRIMARY KEY,
    data_set TEXT NOT NULL,
    transform JSONB NOT NULL
);
CREATE INDEX IF NOT EXISTS backdrop_transforms_data_set ON backdrop_transforms (data_set, id);
CREATE TABLE IF NOT EXISTS backdrop_records (
    data_set TEXT NOT NULL,
    id TEXT NOT NULL,
    timestamp TIMESTAMPTZ NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    start_at TIMESTAMPTZ NULL,
    end_at TIMESTAMPTZ NULL,
    {", ".join(f"{column} TIMESTAMPTZ NULL" for column in PERIOD_COLUMNS.values())},
    data JSONB NOT NULL,
    seq BIGSERIAL NOT NULL,
    PRIMARY KEY (data_set, id)
);
CREATE INDEX IF NOT EXISTS backdrop_records_timestamp
    ON backdrop_records (data_set, timestamp NULLS FIRST, id);
CREATE INDEX IF NOT EXISTS backdrop_records_updated_at
    ON backdrop_records (data_set, updated_at, seq);
"""

_JSON_TYPE_RANK = sql.SQL(
    "CASE jsonb_typeof({x}) WHEN 'boolean' THEN 1 WHEN 'number' THEN 2 "
    "WHEN 'string' THEN 3 ELSE 0 END"
)


def _dumps(value: Any) -> bytes:
    """orjson, except for integers beyond 64 bits (e.g. a filter on 1e300),
    which only the standard library writes."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value).encode()


def _configure(conn: psycopg.Connection) -> None:
    """Per new connection: UTC session (``to_jsonb`` of times) and orjson codecs."""
    set_json_dumps(_dumps, conn)
    set_json_loads(orjson.loads, conn)
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def _number(total: Decimal | None, integral: bool | None) -> int | float | None:
    if total is None:
        return None
    return int(total) if integral else float(total)


class _Query:
    """SQL text pieces with their parameters, kept in order."""

    def __init__(self) -> None:
        self.parts: list[sql.Composable] = []
        self.params: list[Any] = []

    def add(self, text: str | sql.Composable, *params: Any, **composables: Any) -> None:
        piece = sql.SQL(text) if isinstance(text, str) else text
        self.parts.append(piece.format(**composables) if composables else piece)
        self.params.extend(params)

    def composed(self, separator: str = " ") -> sql.Composed:
        return sql.SQL(separator).join(self.parts)


def _storable(*texts: str) -> bool:
    """PostgreSQL text and JSONB cannot hold NUL characters: text with one can
    never be stored, so it names nothing and matches nothing."""
    return not any("\x00" in text for text in texts)


def _field(name: str) -> tuple[sql.Composable, list[Any]]:
    """A record field as a JSONB expression (NULL when the record lacks it)."""
    if not _storable(name):
        return sql.SQL("NULL::jsonb"), []
    if name == "_id":
        return sql.SQL("to_jsonb(id)"), []
    if name in TIME_COLUMNS:
        return sql.SQL("to_jsonb({})").format(sql.Identifier(TIME_COLUMNS[name])), []
    return sql.SQL("(data -> %s::text)"), [name]


def _where(data_set: str, where: Where) -> _Query:
    query = _Query()
    query.add("data_set = %s", data_set)
    if not all(_storable(*vars(c).values()) for c in (*where.filters, *where.prefixes)):
        query.add("FALSE")
        return query
    for flt in where.filters:
        if flt.field == "_id":
            query.add("id = %s", flt.value)
            continue
        candidates = [Jsonb(flt.value)]
        if flt.number is not None:
            candidates.append(Jsonb(flt.number))
        if flt.boolean is not None:
            candidates.append(Jsonb(flt.boolean))
        expression, params = _field(flt.field)
        placeholders = sql.SQL(", ").join(sql.SQL("%s") for _ in candidates)
        query.add("{x} IN ({values})", *params, *candidates, x=expression, values=placeholders)
    for prefix in where.prefixes:
        if prefix.field == "_id":
            query.add("starts_with(id, %s::text)", prefix.prefix)
            continue
        expression, params = _field(prefix.field)
        query.add(
            "(jsonb_typeof({x}) = 'string' AND starts_with({x} #>> '{{}}', %s::text))",
            *params,
            *params,
            prefix.prefix,
            x=expression,
        )
    if where.start is not None:
        query.add("timestamp >= %s", where.start)
    if where.end is not None:
        query.add("timestamp <= %s" if where.end_inclusive else "timestamp < %s", where.end)
    return query


def _order(sort: Sort | None) -> _Query:
    """ORDER BY items: missing and null first ascending, then booleans, numbers,
    strings (by code point), the same order as ``query.sorted_set``; then id."""
    query = _Query()
    if sort is None:
        query.add("timestamp ASC NULLS FIRST")
    elif sort.key == "_id":
        query.add("id DESC" if sort.descending else "id ASC")
    elif sort.key in TIME_COLUMNS:
        direction = "DESC NULLS LAST" if sort.descending else "ASC NULLS FIRST"
        query.add(f"{{column}} {direction}", column=sql.Identifier(TIME_COLUMNS[sort.key]))
    else:
        direction = sql.SQL("DESC" if sort.descending else "ASC")
        x, params = _field(sort.key)
        query.add("{rank} {d}", *params, rank=_JSON_TYPE_RANK.format(x=x), d=direction)
        query.add(
            "CASE WHEN jsonb_typeof({x}) = 'boolean' THEN ({x})::boolean END {d}",
            *params,
            *params,
            x=x,
            d=direction,
        )
        query.add(
            "CASE WHEN jsonb_typeof({x}) = 'number' THEN ({x})::numeric END {d}",
            *params,
            *params,
            x=x,
            d=direction,
        )
        query.add(
            "CASE WHEN jsonb_typeof({x}) = 'string' THEN {x} #>> '{{}}' END COLLATE \"C\" {d}",
            *params,
            *params,
            x=x,
            d=direction,
        )
    query.add("id ASC")
    return query


def _record(row: tuple) -> dict[str, Any]:
    record_id, timestamp, updated_at, start_at, end_at, data = row
    record = dict(data)
    record["_id"] = record_id
    for key, value in (
        ("_timestamp", timestamp),
        ("_updated_at", updated_at),
        ("_start_at", start_at),
        ("_end_at", end_at),
    ):
        if value is not None:
            record[key] = _utc(value)
    return record


def _unstorable(record: dict[str, Any]) -> list[str]:
    """What in a record PostgreSQL cannot store (NUL characters)."""
    return [
        f"{key!r} cannot be stored: it contains a NUL character"
        if not _storable(key)
        else f"{key} cannot be stored: its value contains a NUL character"
        for key, value in record.items()
        if not _storable(key) or (isinstance(value, str) and not _storable(value))
    ]


def _record_row(data_set: str, record: dict[str, Any]) -> tuple:
    internal = {"_id", *TIME_COLUMNS, *PERIOD_COLUMNS}
    data = {key: value for key, value in record.items() if key not in internal}
    return (
        data_set,
        record["_id"],
        *(record.get(key) for key in TIME_COLUMNS),
        *(record.get(key) for key in PERIOD_COLUMNS),
        Jsonb(data),
    )


class PostgresEngine:
    """``StorageEngine`` over PostgreSQL (see ``storage.base`` for the contract)."""

    scheme = "postgresql"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 4):
        params = conninfo_to_dict(url)
        params.setdefault("connect_timeout", CONNECT_TIMEOUT)
        params.setdefault("application_name", "backdrop")
        self._conninfo = make_conninfo(**params)
        self._host = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"
        self._sizes = (min_size, max_size)
        self._lock = threading.Lock()
        self._pool: ConnectionPool | None = None
        self._pid: int | None = None
        self._schema_ready = False
        self._verified = False
        self._recovering = False  # a call failed; renew the pool once it answers
        self._forked_pools: list[ConnectionPool] = []

    # --- connections ---

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
                    configure=_configure,
                    check=ConnectionPool.check_connection,
                    name="backdrop",
                    open=False,
                )
                pool.open(wait=False)
                self._pool, self._pid = pool, os.getpid()
            return self._pool

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection in a transaction (committed on success)."""
        try:
            pool = self._get_pool()
            if not self._verified:
                pool = self._verify(pool)
            with pool.connection() as conn:
                yield conn
        except psycopg.DataError as error:
            # A value PostgreSQL cannot hold or compare (e.g. a NUL character).
            reason = error.diag.message_primary or "invalid value"
            raise BadRequest(f"The database cannot store this value: {reason}") from error
        except (PoolTimeout, psycopg.OperationalError) as error:
            self._verified, self._recovering = False, True
            logger.warning("PostgreSQL at %s unavailable: %s", self._host, error)
            raise StorageUnavailable(
                "The database is unavailable (cannot reach PostgreSQL), please retry later"
            ) from error

    def _verify(self, pool: ConnectionPool) -> ConnectionPool:
        """Connect directly once per process, and again after any failure, so an
        unreachable server fails fast instead of after the pool's wait; the first
        such connection creates the schema (serialised across processes by an
        advisory lock). Returns the pool to use."""
        with psycopg.connect(self._conninfo) as conn:
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

    def ping(self) -> None:
        with self._connection() as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool = None
            self._verified = False

    # --- data sets ---

    def _address_conflict(self, conn: psycopg.Connection, config: dict) -> Conflict:
        group, type_ = config["data_group"], config["data_type"]
        row = conn.execute(
            "SELECT name FROM backdrop_data_sets WHERE data_group = %s AND data_type = %s",
            (group, type_),
        ).fetchone()
        owner = row[0] if row else "?"
        return Conflict(
            f'Data set "{owner}" already has data_group "{group}" and data_type "{type_}"'
        )

    def create_data_set(self, config: dict[str, Any]) -> None:
        name = config["name"]
        with self._connection() as conn:
            try:
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO backdrop_data_sets (name, data_group, data_type, config) "
                        "VALUES (%s, %s, %s, %s)",
                        (name, config["data_group"], config["data_type"], Jsonb(config)),
                    )
            except errors.UniqueViolation as error:
                if error.diag.constraint_name == "backdrop_data_sets_pkey":
                    raise Conflict(f'A data set named "{name}" already exists') from None
                raise self._address_conflict(conn, config) from None

    def get_data_set(self, name: str) -> dict[str, Any] | None:
        if not _storable(name):
            return None
        with self._connection() as conn:
            row = conn.execute(
                "SELECT config FROM backdrop_data_sets WHERE name = %s", (name,)
            ).fetchone()
        return row[0] if row else None

    def find_data_set(self, data_group: str, data_type: str) -> dict[str, Any] | None:
        if not _storable(data_group, data_type):
            return None
        with self._connection() as conn:
            row = conn.execute(
                "SELECT config FROM backdrop_data_sets WHERE data_group = %s AND data_type = %s",
                (data_group, data_type),
            ).fetchone()
        return row[0] if row else None

    def list_data_sets(self) -> list[dict[str, Any]]:
        with self._connection() as conn:
            rows = conn.execute(
                'SELECT config FROM backdrop_data_sets ORDER BY name COLLATE "C"'
            ).fetchall()
        return [row[0] for row in rows]

    def update_data_set(self, name: str, config: dict[str, Any]) -> None:
        config = {**config, "name": name}
        with self._connection() as conn:
            try:
                with conn.transaction():
                    updated = conn.execute(
                        "UPDATE backdrop_data_sets SET data_group = %s, data_type = %s, "
                        "config = %s WHERE name = %s",
                        (config["data_group"], config["data_type"], Jsonb(config), name),
                    ).rowcount
            except errors.UniqueViolation:
                raise self._address_conflict(conn, config) from None
        if not updated:
            raise NotFound(f'No collection exists with name "{name}"')

    def delete_data_set(self, name: str) -> bool:
        with self._connection() as conn:
            conn.execute("DELETE FROM backdrop_records WHERE data_set = %s", (name,))
            conn.execute("DELETE FROM backdrop_transforms WHERE data_set = %s", (name,))
            deleted = conn.execute(
                "DELETE FROM backdrop_data_sets WHERE name = %s", (name,)
            ).rowcount
        return bool(deleted)

    # --- transforms ---

    def add_transform(self, data_set: str, transform: dict[str, Any]) -> str:
        document = {key: value for key, value in transform.items() if key != "id"}
        with self._connection() as conn:
            row = conn.execute(
                "INSERT INTO backdrop_transforms (data_set, transform) VALUES (%s, %s) "
                "RETURNING id",
                (data_set, Jsonb(document)),
            ).fetchone()
        return str(row[0])

    def list_transforms(self, data_set: str) -> list[dict[str, Any]]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT id, transform FROM backdrop_transforms WHERE data_set = %s ORDER BY id",
                (data_set,),
            ).fetchall()
        return [{**transform, "id": str(transform_id)} for transform_id, transform in rows]

    def remove_transform(self, data_set: str, transform_id: str) -> bool:
        if not transform_id.isascii() or not transform_id.isdigit() or len(transform_id) > 18:
            return False
        with self._connection() as conn:
            deleted = conn.execute(
                "DELETE FROM backdrop_transforms WHERE data_set = %s AND id = %s",
                (data_set, int(transform_id)),
            ).rowcount
        return bool(deleted)

    # --- records ---

    def save_records(
        self, data_set: str, records: list[dict[str, Any]], capped_size: int | None = 0
    ) -> None:
        columns = sql.SQL(", ").join(map(sql.Identifier, ("data_set", *RECORD_COLUMNS)))
        updates = sql.SQL(", ").join(
            sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(column))
            for column in (*RECORD_COLUMNS[1:], "seq")
        )
        placeholders = sql.SQL(", ").join(sql.SQL("%s") for _ in range(len(RECORD_COLUMNS) + 1))
        upsert = sql.SQL(
            "INSERT INTO backdrop_records ({columns}) VALUES ({placeholders}) "
            "ON CONFLICT (data_set, id) DO UPDATE SET {updates}"
        ).format(columns=columns, placeholders=placeholders, updates=updates)
        problems = [
            f"record {index}: {problem}"
            for index, record in enumerate(records)
            for problem in _unstorable(record)
        ]
        if problems:
            raise InvalidRecords(problems)
        with self._connection() as conn:
            with conn.cursor() as cursor:
                # In key order, so concurrent batches sharing ids cannot deadlock
                # (the sort is stable: a repeated id's last version still wins).
                rows = sorted((_record_row(data_set, r) for r in records), key=lambda r: r[1])
                cursor.executemany(upsert, rows)
            if capped_size and capped_size > 0:
                # Keep the newest records whose stored sizes add up to at most
                # capped_size; ties on _updated_at go by write order.
                conn.execute(
                    "DELETE FROM backdrop_records r USING ("
                    "  SELECT id, sum(pg_column_size(data)) OVER ("
                    "    ORDER BY updated_at DESC, seq DESC"
                    "    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS kept"
                    "  FROM backdrop_records WHERE data_set = %s"
                    ") sizes WHERE r.data_set = %s AND r.id = sizes.id AND sizes.kept > %s",
                    (data_set, data_set, capped_size),
                )

    def get_record(self, data_set: str, record_id: str) -> dict[str, Any] | None:
        if not _storable(data_set, record_id):
            return None
        with self._connection() as conn:
            row = conn.execute(
                "SELECT id, timestamp, updated_at, start_at, end_at, data "
                "FROM backdrop_records WHERE data_set = %s AND id = %s",
                (data_set, record_id),
            ).fetchone()
        return _record(row) if row else None

    def delete_record(self, data_set: str, record_id: str) -> bool:
        if not _storable(data_set, record_id):
            return False
        with self._connection() as conn:
            deleted = conn.execute(
                "DELETE FROM backdrop_records WHERE data_set = %s AND id = %s",
                (data_set, record_id),
            ).rowcount
        return bool(deleted)

    def empty(self, data_set: str) -> None:
        with self._connection() as conn:
            conn.execute("DELETE FROM backdrop_records WHERE data_set = %s", (data_set,))

    def last_updated(self, data_set: str) -> datetime | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT max(updated_at) FROM backdrop_records WHERE data_set = %s", (data_set,)
            ).fetchone()
        return _utc(row[0])

    def find(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        condition = _where(data_set, where)
        order = _order(sort)
        statement = sql.SQL(
            "SELECT id, timestamp, updated_at, start_at, end_at, data FROM backdrop_records "
            "WHERE {condition} ORDER BY {order}"
        ).format(condition=condition.composed(" AND "), order=order.composed(", "))
        params = [*condition.params, *order.params]
        if limit is not None:
            statement += sql.SQL(" LIMIT %s")
            params.append(limit)
        with self._connection() as conn:
            rows = conn.execute(statement, params).fetchall()
        return [_record(row) for row in rows]

    def aggregate(
        self,
        data_set: str,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
        collects: tuple[Collect, ...],
    ) -> list[dict[str, Any]]:
        select, condition = _Query(), _where(data_set, where)
        keys: list[str] = []  # one per select item, in order
        for name in group_by:
            if name in TIME_COLUMNS:
                column = sql.Identifier(TIME_COLUMNS[name])
                select.add("{c}", c=column)
                condition.add("{c} IS NOT NULL", c=column)
            else:
                x, params = _field(name)
                select.add("{x}", *params, x=x)
                condition.add("jsonb_typeof({x}) <> 'null'", *params, x=x)
            keys.append(name)
        if period is not None:
            column = sql.Identifier(PERIOD_COLUMNS[f"_{period}_start_at"])
            select.add("{c}", c=column)
            condition.add("{c} IS NOT NULL", c=column)
            keys.append("_start_at")
        grouping = len(keys)
        select.add("count(*)")
        keys.append("_count")

        unique = list({collect.key: collect for collect in collects}.values())
        for collect in unique:
            x, params = _field(collect.field)
            if collect.method == "count":
                select.add("count({x})", *params, x=x)
            elif collect.method == "set":
                select.add(
                    "coalesce(jsonb_agg(DISTINCT {x}) FILTER (WHERE {x} IS NOT NULL), '[]')",
                    *params,
                    *params,
                    x=x,
                )
            else:
                # sum and mean: the numeric sum; whether every value was an
                # integer (JSONB keeps "2.0" but prints a float written as 1e20
                # in full, hence the int64 bound); how many; any non-number.
                select.add(
                    "sum(({x})::numeric) FILTER (WHERE jsonb_typeof({x}) = 'number'), "
                    "bool_and(({x})::text !~ '[.eE]' AND abs(({x})::numeric) < 2 ^ 63::numeric) "
                    "FILTER (WHERE jsonb_typeof({x}) = 'number'), "
                    "count(*) FILTER (WHERE jsonb_typeof({x}) = 'number'), "
                    "bool_or(jsonb_typeof({x}) NOT IN ('number', 'null'))",
                    *params * 7,
                    x=x,
                )
        statement = sql.SQL("SELECT {select} FROM backdrop_records WHERE {condition}").format(
            select=select.composed(", "), condition=condition.composed(" AND ")
        )
        if grouping:
            statement += sql.SQL(" GROUP BY {}").format(
                sql.SQL(", ").join(sql.SQL(str(i + 1)) for i in range(grouping))
            )
        with self._connection() as conn:
            rows = conn.execute(statement, [*select.params, *condition.params]).fetchall()

        results = []
        for row in rows:
            if not grouping and row[0] == 0:
                return []  # no matching records: no row (a bare aggregate always has one)
            result = dict(zip(keys, row[: len(keys)], strict=True))
            if "_start_at" in result and period is not None:
                result["_start_at"] = _utc(result["_start_at"])
            for name in group_by:
                if name in TIME_COLUMNS:
                    result[name] = _utc(result[name])
            position = len(keys)
            for collect in unique:
                if collect.method in ("count", "set"):
                    result[collect.key] = row[position]
                    position += 1
                    continue
                total, integral, n, invalid = row[position : position + 4]
                position += 4
                if invalid:
                    raise InvalidQuery("invalid collect function")
                value = _number(total, integral)
                result[collect.key] = (
                    value if collect.method == "sum" else [0 if value is None else value, n]
                )
            results.append(result)
        return results
