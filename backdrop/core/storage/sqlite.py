"""The embedded default engine: one SQLite file, safe for several processes.

WAL mode lets readers run beside one writer; every write takes the write lock
up front (``BEGIN IMMEDIATE``) and waits up to the busy timeout for it, so
gunicorn workers of both apps can share a file. Each data set's records live
in their own table: ``_id``, ``_timestamp``, ``_updated_at`` and the period
keys as columns (epoch microseconds, indexed where queries need it) and the
record itself as JSON text, which filters and aggregates read with SQLite's
JSON functions. Values are always bound; identifiers come only from
validated data-set names.
"""

# ruff: noqa: S608 - statements are assembled from validated identifiers and
# placeholders only; every value is a bound parameter.

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from backdrop.core.names import NAME_PATTERN
from backdrop.core.periods import PERIOD_KEYS, PERIODS, period_keys
from backdrop.core.query import COLLECT_METHODS, Collect, Sort, Where
from backdrop.core.storage.base import TIME_FIELDS
from backdrop.errors import (
    Conflict,
    InvalidQuery,
    InvalidRecords,
    NotFound,
    StorageUnavailable,
)

BUSY_TIMEOUT_SECONDS = 30
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
_PERIOD_KEY_SET = frozenset(PERIOD_KEYS)  # benchmarks/bulk.py builds its baseline rows with it
_NO_PERIODS = (None,) * len(PERIOD_KEYS)
_HOUR = 3_600_000_000  # microseconds
_DAY = 24 * _HOUR
# PERIOD_KEYS run hour, day, week, month, quarter, year: the hour start is
# arithmetic, the others are shared by every moment of a day.
_DAY_KEYS = PERIOD_KEYS[1:]
_COLUMNS = ("_id", "_timestamp", "_updated_at", *PERIOD_KEYS, "data")
_NUMERIC = "('integer', 'real')"

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
CREATE TABLE IF NOT EXISTS data_sets (
    name TEXT PRIMARY KEY,
    data_group TEXT NOT NULL,
    data_type TEXT NOT NULL,
    config TEXT NOT NULL,
    UNIQUE (data_group, data_type)
);
CREATE TABLE IF NOT EXISTS transforms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    data_set TEXT NOT NULL,
    transform TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transforms_data_set ON transforms (data_set);
"""


def _micros(moment: datetime | None) -> int | None:
    return None if moment is None else (moment - EPOCH) // MICROSECOND


def _rows(records: list[dict[str, Any]]) -> list[tuple]:
    """Records as rows of ``_COLUMNS``: the ingest hot path.

    The period columns are the period starts of ``_timestamp`` (as the
    period keys handed in are): the hour by arithmetic, the rest looked up
    once per day of the batch. The ``data`` JSON leaves the period keys out.
    """
    day_starts: dict[int, tuple[int, ...]] = {}
    updated: dict[datetime, int] = {}
    rows = []
    for record in records:
        updated_at = record["_updated_at"]
        updated_micros = updated.get(updated_at)
        if updated_micros is None:
            updated_micros = updated[updated_at] = _micros(updated_at)
        timestamp = record.get("_timestamp")
        if timestamp is None:
            times: tuple = (None, updated_micros, *_NO_PERIODS)
        else:
            micros = _micros(timestamp)
            day = micros - micros % _DAY
            starts = day_starts.get(day)
            if starts is None:
                keys = period_keys(_moment(day))
                starts = day_starts[day] = tuple(_micros(keys[k]) for k in _DAY_KEYS)
            times = (micros, updated_micros, micros - micros % _HOUR, *starts)
        data = record.copy()
        for key in PERIOD_KEYS:
            data.pop(key, None)
        rows.append((record["_id"], *times, orjson.dumps(data).decode()))
    return rows


def _unstorable(records: list[dict[str, Any]]) -> list[str]:
    """Which values of a batch cannot be serialised, in records' words."""
    problems = []
    for index, record in enumerate(records):
        for key, value in record.items():
            try:
                orjson.dumps(value)
            except TypeError as error:
                problems.append(f"record {index}: {key} cannot be stored ({error})")
    return problems


def _moment(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def _path(field: str) -> str:
    """The JSON path of a top-level key (bound as a parameter, never spliced)."""
    if '"' in field:
        raise InvalidQuery(f"{field} is not a valid field name")
    return f'$."{field}"'


def _record(text: str) -> dict[str, Any]:
    record = orjson.loads(text)
    for key in TIME_FIELDS:
        value = record.get(key)
        if value is not None:
            record[key] = datetime.fromisoformat(value)
    return record


def _path_of(url: str) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(
            f"Expected sqlite:///relative/path or sqlite:////absolute/path, got {url!r}"
        )
    return url[len(prefix) :].split("?", 1)[0]


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except sqlite3.DatabaseError as error:
        text = str(error).lower()
        if any(reason in text for reason in _UNAVAILABLE):
            raise StorageUnavailable() from error
        raise


def _is_missing_table(error: sqlite3.OperationalError) -> bool:
    return str(error).startswith("no such table")


class _Params:
    """Named bound parameters for one statement."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f":{name}"


def _where_sql(where: Where, bind: _Params) -> list[str]:
    clauses = []
    for condition in where.filters:
        if condition.field == "_id":
            clauses.append(f"_id = {bind(condition.value)}")
            continue
        path = bind(_path(condition.field))
        # A JSON string comes out of ->> as TEXT, a number as INTEGER/REAL and a
        # boolean as 0/1, and SQLite never equates TEXT with a number: the
        # string test needs no type check, the number test must rule out booleans.
        options = [f"data ->> {path} = {bind(condition.value)}"]
        if condition.number is not None:
            options.append(
                f"(data ->> {path} = {bind(condition.number)} "
                f"AND json_type(data, {path}) IN {_NUMERIC})"
            )
        if condition.boolean is not None:
            options.append(f"json_type(data, {path}) = {bind(str(condition.boolean).lower())}")
        clauses.append("(" + " OR ".join(options) + ")")
    for prefix in where.prefixes:
        text = bind(prefix.prefix)
        length = bind(len(prefix.prefix))
        if prefix.field == "_id":
            clauses.append(f"substr(_id, 1, {length}) = {text}")
            continue
        path = bind(_path(prefix.field))
        clauses.append(
            f"(substr(data ->> {path}, 1, {length}) = {text} AND json_type(data, {path}) = 'text')"
        )
    if where.start is not None:
        clauses.append(f"_timestamp >= {bind(_micros(where.start))}")
    if where.end is not None:
        operator = "<=" if where.end_inclusive else "<"
        clauses.append(f"_timestamp {operator} {bind(_micros(where.end))}")
    return clauses


def _sort_sql(key: str, bind: _Params) -> str:
    if key in ("_id", "_timestamp", "_updated_at"):
        return key
    return f"data ->> {bind(_path(key))}"


class _RecordColumns:
    """The per-record values an aggregate needs, computed once per record in an
    inner query, so the sort behind GROUP BY carries a few small values rather
    than every record's JSON text.

    Per field: ``v`` its SQL value (``->>``: TEXT, INTEGER/REAL, or 0/1 for
    booleans, NULL when missing or null), ``b`` whether a 0/1 is a boolean
    (asked of ``json_type`` only for those rows), and ``j`` its JSON text
    (``->``: ``"x"``, ``1``, ``true``, ``null``; NULL when missing).
    """

    def __init__(self, bind: _Params) -> None:
        self.bind = bind
        self.paths: dict[str, str] = {}
        self.columns: dict[str, str] = {}  # alias → expression

    def _column(self, field: str, kind: str) -> str:
        if field not in self.paths:
            self.paths[field] = self.bind(_path(field))
        path = self.paths[field]
        alias = f"{kind}{list(self.paths).index(field)}"
        if alias not in self.columns:
            self.columns[alias] = {
                "v": f"data ->> {path}",
                "b": f"CASE WHEN data ->> {path} IN (0, 1) "
                f"THEN json_type(data, {path}) IN ('true', 'false') END",
                "j": f"data -> {path}",
            }[kind]
        return alias

    def value(self, field: str) -> str:
        return self._column(field, "v")

    def is_boolean(self, field: str) -> str:
        return self._column(field, "b")

    def json(self, field: str) -> str:
        return self._column(field, "j")


def _collect_sql(
    collect: Collect, columns: _RecordColumns, integer_sums: bool
) -> tuple[list[str], Callable[[tuple], tuple[Any, bool]]]:
    """Aggregate expressions for one collect's partial, and a reader turning
    their values into (partial, saw a non-numeric value). Without
    ``integer_sums``, sums are floats (for sums beyond 64-bit integers)."""
    if collect.method in ("sum", "mean"):
        value, boolean = columns.value(collect.field), columns.is_boolean(collect.field)
        total = f"sum({value})" if integer_sums else f"sum(CAST({value} AS REAL))"
        # Strings and booleans make the query invalid, so the sum and count
        # need not leave them out: they are only used when there are none.
        expressions = [total, f"max(typeof({value}) = 'text' OR {boolean})"]
        if collect.method == "sum":
            return expressions, lambda cols: (cols[0], bool(cols[1]))
        expressions.append(f"count({value})")
        return expressions, lambda cols: ([cols[0] or 0, cols[2]], bool(cols[1]))
    if collect.method == "count":
        return [f"count({columns.json(collect.field)})"], lambda cols: (cols[0], False)
    if collect.method == "set":
        # The comma-joined distinct JSON texts are a JSON array that keeps
        # every value's type.
        return [f"group_concat(DISTINCT {columns.json(collect.field)})"], lambda cols: (
            orjson.loads(f"[{cols[0]}]") if cols[0] is not None else [],
            False,
        )
    raise InvalidQuery("Unknown collection method")


class SQLiteEngine:
    """``sqlite:///relative/path`` or ``sqlite:////absolute/path``."""

    scheme = "sqlite"

    def __init__(self, url: str):
        self.path = _path_of(url)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._generation = 0
        self._connections: dict[threading.Thread, sqlite3.Connection] = {}

    # --- connections ---

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use in this process."""
        pid = os.getpid()
        if pid != self._pid:
            # Forked (gunicorn): the parent's connections and lock are not ours.
            self._pid, self._lock, self._connections = pid, threading.Lock(), {}
            self._generation += 1
        local = self._local
        if getattr(local, "generation", None) == (pid, self._generation):
            return local.connection
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
                "SELECT count(*) FROM sqlite_master WHERE name = 'transforms_data_set'"
            ).fetchone()[0]
            if not exists:
                connection.executescript(_SCHEMA)
        except BaseException:
            connection.close()
            raise
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the write lock from its first statement."""
        with _translated():
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def _select(self, sql: str, params: Any = ()) -> list[tuple]:
        with _translated():
            return self._connection().execute(sql, params).fetchall()

    def _select_records(self, sql: str, params: Any = ()) -> list[tuple]:
        """Rows of a records table; a table never written to has none."""
        try:
            return self._select(sql, params)
        except sqlite3.OperationalError as error:
            if _is_missing_table(error):
                return []
            raise

    def ping(self) -> None:
        self._select("SELECT 1")

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, {}
            self._generation += 1
        for connection in connections.values():
            connection.close()

    # --- data-set registry ---

    def create_data_set(self, config: dict[str, Any]) -> None:
        name = config["name"]
        data_group, data_type = config["data_group"], config["data_type"]
        with self._transaction() as connection:
            if connection.execute("SELECT 1 FROM data_sets WHERE name = ?", (name,)).fetchone():
                raise Conflict(f'A data set named "{name}" already exists')
            owner = self._address_owner(connection, data_group, data_type)
            if owner is not None:
                raise Conflict(_address_taken(owner, data_group, data_type))
            connection.execute(
                "INSERT INTO data_sets (name, data_group, data_type, config) VALUES (?, ?, ?, ?)",
                (name, data_group, data_type, orjson.dumps(config).decode()),
            )
            self._create_records_table(connection, name)

    def _address_owner(
        self, connection: sqlite3.Connection, data_group: str, data_type: str
    ) -> str | None:
        row = connection.execute(
            "SELECT name FROM data_sets WHERE data_group = ? AND data_type = ?",
            (data_group, data_type),
        ).fetchone()
        return None if row is None else row[0]

    def get_data_set(self, name: str) -> dict[str, Any] | None:
        rows = self._select("SELECT config FROM data_sets WHERE name = ?", (name,))
        return orjson.loads(rows[0][0]) if rows else None

    def find_data_set(self, data_group: str, data_type: str) -> dict[str, Any] | None:
        rows = self._select(
            "SELECT config FROM data_sets WHERE data_group = ? AND data_type = ?",
            (data_group, data_type),
        )
        return orjson.loads(rows[0][0]) if rows else None

    def list_data_sets(self) -> list[dict[str, Any]]:
        rows = self._select("SELECT config FROM data_sets ORDER BY name")
        return [orjson.loads(row[0]) for row in rows]

    def update_data_set(self, name: str, config: dict[str, Any]) -> None:
        config = {**config, "name": name}
        with self._transaction() as connection:
            if not connection.execute("SELECT 1 FROM data_sets WHERE name = ?", (name,)).fetchone():
                raise NotFound(f'No collection exists with name "{name}"')
            owner = self._address_owner(connection, config["data_group"], config["data_type"])
            if owner not in (None, name):
                raise Conflict(_address_taken(owner, config["data_group"], config["data_type"]))
            connection.execute(
                "UPDATE data_sets SET data_group = ?, data_type = ?, config = ? WHERE name = ?",
                (config["data_group"], config["data_type"], orjson.dumps(config).decode(), name),
            )

    def delete_data_set(self, name: str) -> bool:
        with self._transaction() as connection:
            deleted = connection.execute("DELETE FROM data_sets WHERE name = ?", (name,)).rowcount
            connection.execute("DELETE FROM transforms WHERE data_set = ?", (name,))
            if NAME_PATTERN.fullmatch(name):
                connection.execute(f"DROP TABLE IF EXISTS {_table(name)}")
        return deleted > 0

    # --- transforms ---

    def add_transform(self, data_set: str, transform: dict[str, Any]) -> str:
        document = {k: v for k, v in transform.items() if k != "id"}
        with self._transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO transforms (data_set, transform) VALUES (?, ?)",
                (data_set, orjson.dumps(document).decode()),
            )
        return str(cursor.lastrowid)

    def list_transforms(self, data_set: str) -> list[dict[str, Any]]:
        rows = self._select(
            "SELECT id, transform FROM transforms WHERE data_set = ? ORDER BY id", (data_set,)
        )
        return [{**orjson.loads(transform), "id": str(id_)} for id_, transform in rows]

    def remove_transform(self, data_set: str, transform_id: str) -> bool:
        if not transform_id.isdecimal():
            return False
        with self._transaction() as connection:
            cursor = connection.execute(
                "DELETE FROM transforms WHERE data_set = ? AND id = ?",
                (data_set, int(transform_id)),
            )
        return cursor.rowcount > 0

    # --- records ---

    def _create_records_table(self, connection: sqlite3.Connection, name: str) -> None:
        table = _table(name)
        periods = ", ".join(f"{key} INTEGER" for key in PERIOD_KEYS)
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (_id TEXT PRIMARY KEY, _timestamp INTEGER, "
            f"_updated_at INTEGER NOT NULL, {periods}, data TEXT NOT NULL)"
        )
        connection.execute(
            f"CREATE INDEX IF NOT EXISTS {_table(name, ':timestamp')} ON {table} (_timestamp, _id)"
        )
        connection.execute(
            f"CREATE INDEX IF NOT EXISTS {_table(name, ':updated_at')} ON {table} (_updated_at)"
        )

    def save_records(
        self, data_set: str, records: list[dict[str, Any]], capped_size: int | None = 0
    ) -> None:
        table = _table(data_set)
        try:
            rows = _rows(records)
        except TypeError:  # orjson.JSONEncodeError: a value JSON cannot hold
            raise InvalidRecords(_unstorable(records)) from None
        insert = (
            f"INSERT OR REPLACE INTO {table} ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_COLUMNS))})"
        )
        with self._transaction() as connection:
            try:
                connection.executemany(insert, rows)
            except sqlite3.OperationalError as error:
                if not _is_missing_table(error):
                    raise
                self._create_records_table(connection, data_set)
                connection.executemany(insert, rows)
            if capped_size and capped_size > 0:
                self._cap(connection, table, capped_size)

    def _cap(self, connection: sqlite3.Connection, table: str, capped_size: int) -> None:
        """Drop the oldest records (by _updated_at, then insertion order) until
        the bytes of the rest fit in ``capped_size``."""
        total = connection.execute(
            f"SELECT coalesce(sum(length(CAST(data AS BLOB))), 0) FROM {table}"
        ).fetchone()[0]
        if total <= capped_size:
            return
        connection.execute(
            f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM ("
            f"SELECT rowid, sum(length(CAST(data AS BLOB))) OVER ("
            f"ORDER BY _updated_at DESC, rowid DESC) AS newer_bytes FROM {table}"
            f") WHERE newer_bytes > ?)",
            (capped_size,),
        )

    def get_record(self, data_set: str, record_id: str) -> dict[str, Any] | None:
        rows = self._select_records(
            f"SELECT data FROM {_table(data_set)} WHERE _id = ?", (record_id,)
        )
        return _record(rows[0][0]) if rows else None

    def delete_record(self, data_set: str, record_id: str) -> bool:
        return self._delete_records(data_set, "WHERE _id = ?", (record_id,)) > 0

    def empty(self, data_set: str) -> None:
        self._delete_records(data_set, "", ())

    def _delete_records(self, data_set: str, condition: str, params: tuple) -> int:
        try:
            with self._transaction() as connection:
                return connection.execute(
                    f"DELETE FROM {_table(data_set)} {condition}", params
                ).rowcount
        except sqlite3.OperationalError as error:
            if _is_missing_table(error):
                return 0
            raise

    def last_updated(self, data_set: str) -> datetime | None:
        rows = self._select_records(f"SELECT max(_updated_at) FROM {_table(data_set)}")
        return _moment(rows[0][0]) if rows and rows[0][0] is not None else None

    def find(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        bind = _Params()
        clauses = _where_sql(where, bind)
        if sort is None:
            order = "_timestamp, _id"
        else:
            direction = " DESC" if sort.descending else ""
            order = f"{_sort_sql(sort.key, bind)}{direction}"
            if sort.key != "_id":
                order += ", _id"
        sql = f"SELECT data FROM {_table(data_set)}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {bind(limit)}"
        return [_record(row[0]) for row in self._select_records(sql, bind.values)]

    def aggregate(
        self,
        data_set: str,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
        collects: tuple[Collect, ...],
    ) -> list[dict[str, Any]]:
        try:
            return self._aggregate(data_set, where, group_by, period, collects, True)
        except sqlite3.OperationalError as error:
            if str(error) != "integer overflow":
                raise
            return self._aggregate(data_set, where, group_by, period, collects, False)

    def _aggregate(
        self,
        data_set: str,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
        collects: tuple[Collect, ...],
        integer_sums: bool,
    ) -> list[dict[str, Any]]:
        bind = _Params()
        columns = _RecordColumns(bind)
        clauses = _where_sql(where, bind)
        # Group on each field's JSON text (one JSON call per record): 1, "1"
        # and true stay apart and come back with their JSON types.
        keys = [columns.json(field) for field in group_by]
        group_columns = list(keys)
        selects = list(group_columns)
        if period is not None:
            key = PERIODS[period].key
            columns.columns["period"] = key  # the period-key column itself
            selects.append("period")
            group_columns.append("period")
            clauses.append(f"{key} IS NOT NULL")
        selects.append("count(*)")
        readers = []
        for collect in collects:
            expressions, reader = _collect_sql(collect, columns, integer_sums)
            readers.append((collect.key, len(selects), len(expressions), reader))
            selects.extend(expressions)
        inner = ", ".join(f"{sql} AS {alias}" for alias, sql in columns.columns.items()) or "1"
        inner = f"SELECT {inner} FROM {_table(data_set)}"
        if clauses:
            inner += " WHERE " + " AND ".join(clauses)
        if any(alias != "period" for alias in columns.columns):
            # LIMIT -1 keeps SQLite from flattening the inner query into the
            # outer one, which would sort whole records and read them after.
            inner += " LIMIT -1"
        sql = f"SELECT {', '.join(selects)} FROM ({inner})"
        if group_columns:
            sql += " GROUP BY " + ", ".join(group_columns)
        if keys:
            # Records whose group field is missing or null are left out.
            sql += " HAVING " + " AND ".join(f"{j} IS NOT NULL AND {j} != 'null'" for j in keys)
        results = []
        invalid = False
        count_column = len(keys) + (period is not None)
        for row in self._select_records(sql, bind.values):
            if not row[count_column]:
                continue  # an ungrouped aggregate over no records
            result: dict[str, Any] = {
                field: orjson.loads(row[i]) for i, field in enumerate(group_by)
            }
            if period is not None:
                result["_start_at"] = _moment(row[len(keys)])
            result["_count"] = row[count_column]
            for key, start, width, reader in readers:
                result[key], non_numeric = reader(row[start : start + width])
                invalid = invalid or non_numeric
            results.append(result)
        if invalid:
            raise InvalidQuery("invalid collect function")
        return _merge_equal_groups(results, group_by, collects)


def _merge_equal_groups(
    rows: list[dict[str, Any]], group_by: tuple[str, ...], collects: tuple[Collect, ...]
) -> list[dict[str, Any]]:
    """One row per group value: JSON texts ``1`` and ``1.0`` are different
    groups in SQL but the same number, as in the other engines."""
    merged: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = (
            tuple((type(row[f]) is bool, row[f]) for f in group_by),
            row.get("_start_at"),
        )
        if key not in merged:
            merged[key] = row
            continue
        into = merged[key]
        into["_count"] += row["_count"]
        for collect in collects:
            into[collect.key] = COLLECT_METHODS[collect.method].merge(
                into[collect.key], row[collect.key]
            )
    return list(merged.values()) if len(merged) < len(rows) else rows


def _table(name: str, suffix: str = "") -> str:
    """The quoted identifier of a data set's records table (or one of its indexes)."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid data set name")
    return f'"records_{name}{suffix}"'


def _address_taken(owner: str, data_group: str, data_type: str) -> str:
    return f'Data set "{owner}" already has data_group "{data_group}" and data_type "{data_type}"'
