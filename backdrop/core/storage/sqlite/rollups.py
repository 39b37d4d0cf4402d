"""The data-set state and rollups on SQLite (``backdrop.core.rollups``).

``data_set_state`` holds one row per data set name: its ``version`` (+1 in
every write transaction, kept across drop and create so it never repeats),
the rollup spec (JSON) and whether it is built. A data set's rollup rows live
in one table, ``rollup_<name>``: per (group, bucket, group values) the
counters, with the coarser period starts as columns so a period query is a
plain GROUP BY. A dimension is two columns: ``v`` its SQL value as ``->>``
gives it (in a column without affinity, so it compares exactly as filters on
records do) and ``t`` its ``json_type`` (``null`` also when missing), which
keeps 1, 1.0, "1" and true apart.

Writers keep a ready rollup exact in their transaction, in SQL: the counters
of the stored records a write replaces or removes are subtracted (read from
the records table before the change) and those of the new records added
(read back after it), each as one INSERT … SELECT … GROUP BY … ON CONFLICT
over every group at once. A counter beyond 64 bits marks the rollup not
ready (queries then read the records) rather than failing the write.
"""

# ruff: noqa: S608 - statements are assembled from validated identifiers and
# placeholders only; every value is a bound parameter.

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import orjson

from backdrop.core import rollups
from backdrop.core.names import NAME_PATTERN
from backdrop.core.periods import PERIOD_KEYS, PERIODS
from backdrop.core.query import Filter, PrefixFilter, Where
from backdrop.core.rollups import DataSetState, RollupSpec
from backdrop.core.storage.base import Row
from backdrop.core.storage.sqlite.connection import Connections
from backdrop.core.storage.sqlite.rows import micros, moment, path
from backdrop.core.storage.sqlite.rows import table as records_table
from backdrop.core.storage.sqlite.sql import Params

log = logging.getLogger(__name__)

ALL_TIME = -(2**63)  # the bucket of the ALL_TIME rows
_BUMP = (
    "INSERT INTO data_set_state (name, version) VALUES (?, 1) ON CONFLICT (name) "
    "DO UPDATE SET version = version + 1 RETURNING rollup, ready"
)
_OVERFLOWS = (sqlite3.IntegrityError, sqlite3.OperationalError)
_NOT_NUMBERS = "('true', 'false', 'text', 'array', 'object')"
_specs: dict[str, RollupSpec] = {}


def _spec(text: str | None) -> RollupSpec | None:
    if text is None:
        return None
    if text not in _specs:
        _specs[text] = RollupSpec.from_document(orjson.loads(text))
    return _specs[text]


def rollup_table(name: str, suffix: str = "") -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid data set name")
    return f'"rollup_{name}{suffix}"'


def _overflowed(error: sqlite3.Error) -> bool:
    text = str(error)
    return text == "integer overflow" or text.startswith("CHECK constraint failed")


class Layout:
    """The columns of one spec's rollup table and the statements over them."""

    def __init__(self, name: str, spec: RollupSpec) -> None:
        self.name, self.spec = name, spec
        self.table = rollup_table(name)
        self.fields = list(dict.fromkeys(f for group in spec.groups for f in group))
        self.periods = PERIOD_KEYS[list(PERIODS).index(spec.grain) :]
        self.counters = spec.counter_names()
        self.keys = ["grp", "bucket", *(f"{k}{i}" for i in range(len(self.fields)) for k in "vt")]
        self.paths = {f"f{i}": path(f) for i, f in enumerate(self.fields)}
        self.paths.update({f"m{j}": path(m) for j, m in enumerate(spec.measures)})

    def column(self, field: str) -> int:
        return self.fields.index(field)

    def create(self, connection: sqlite3.Connection) -> None:
        counters = []
        for i, counter in enumerate(self.counters):
            kind = "REAL" if counter.endswith(":fsum") else "INTEGER"
            check = f" CHECK (typeof(c{i}) = 'integer')" if counter.endswith(":isum") else ""
            counters.append(f"c{i} {kind} NOT NULL{check}")
        dims = [f"v{i} NOT NULL, t{i} TEXT NOT NULL" for i in range(len(self.fields))]
        connection.execute(
            f"CREATE TABLE {self.table} (grp INTEGER NOT NULL, bucket INTEGER NOT NULL, "
            f"{''.join(d + ', ' for d in dims)}{', '.join(f'{k} INTEGER' for k in self.periods)}, "
            f"{', '.join(counters)}, PRIMARY KEY ({', '.join(self.keys)})) WITHOUT ROWID"
        )
        connection.execute(
            f"CREATE INDEX {rollup_table(self.name, ':empty')} ON {self.table} (c0) WHERE c0 = 0"
        )

    def _source(self, condition: str) -> str:
        """Per record of the records table matching ``condition``: its grain
        bucket, period starts, group values and measure types and values."""
        columns = [f"{self.periods[0]} AS ib", *(f"{k} AS i{k}" for k in self.periods)]
        for i in range(len(self.fields)):
            columns.append(f"coalesce(data ->> :f{i}, '') AS iv{i}")
            columns.append(f"coalesce(json_type(data, :f{i}), 'null') AS it{i}")
        for j in range(len(self.spec.measures)):
            columns.append(f"json_type(data, :m{j}) AS mt{j}")
            columns.append(f"data ->> :m{j} AS mv{j}")
        return f"SELECT {', '.join(columns)} FROM {records_table(self.name)} WHERE {condition}"

    def _sums(self, sign: str) -> list[str]:
        sums = [f"{sign}count(*)"]
        for j in range(len(self.spec.measures)):
            t, v = f"mt{j}", f"mv{j}"
            sums += [
                f"{sign}count({t})",
                f"{sign}count(CASE WHEN {t} IN ('integer', 'real') THEN 1 END)",
                f"{sign}sum(CASE WHEN {t} = 'integer' THEN {v} ELSE 0 END)",
                f"{sign}total(CASE WHEN {t} = 'real' THEN {v} END)",
                f"{sign}count(CASE WHEN {t} = 'real' THEN 1 END)",
                f"{sign}count(CASE WHEN {t} IN {_NOT_NUMBERS} THEN 1 END)",
            ]
        return sums

    def delta_sql(self, condition: str, sign: int) -> str:
        """Add (or subtract) the counters of the records matching ``condition``
        to every group's rows: ALL_TIME and the grain bucket, in one statement."""
        selects = ["g.grp AS grp", f"CASE WHEN a.all_time THEN {ALL_TIME} ELSE ib END AS bucket"]
        for i, field in enumerate(self.fields):
            holders = ", ".join(
                str(g) for g, group in enumerate(self.spec.groups) if field in group
            )
            selects.append(f"CASE WHEN g.grp IN ({holders}) THEN iv{i} ELSE '' END AS v{i}")
            selects.append(f"CASE WHEN g.grp IN ({holders}) THEN it{i} ELSE 'null' END AS t{i}")
        selects += [f"CASE WHEN a.all_time THEN NULL ELSE i{k} END AS {k}" for k in self.periods]
        selects += self._sums("-" if sign < 0 else "")
        groups = " UNION ALL ".join(f"SELECT {g} AS grp" for g in range(len(self.spec.groups)))
        columns = [*self.keys[:2], *self.keys[2:], *self.periods]
        columns += [f"c{i}" for i in range(len(self.counters))]
        updates = ", ".join(f"c{i} = c{i} + excluded.c{i}" for i in range(len(self.counters)))
        return (
            f"INSERT INTO {self.table} ({', '.join(columns)}) SELECT {', '.join(selects)} "
            f"FROM ({self._source(condition)}) CROSS JOIN ({groups}) AS g "
            "CROSS JOIN (SELECT 0 AS all_time UNION ALL SELECT 1) AS a "
            f"WHERE a.all_time OR ib IS NOT NULL GROUP BY {', '.join(self.keys)} "
            f"ON CONFLICT ({', '.join(self.keys)}) DO UPDATE SET {updates}"
        )


def read_state(connections: Connections, name: str) -> DataSetState:
    found = connections.select(
        "SELECT version, rollup, ready FROM data_set_state WHERE name = ?", (name,)
    )
    if not found:
        return DataSetState()
    version, rollup, ready = found[0]
    return DataSetState(version, _spec(rollup), bool(ready))


def _not_ready(connection: sqlite3.Connection, name: str, reason: str) -> None:
    log.warning("The rollup of %s is no longer ready: %s", name, reason)
    connection.execute(f"DROP TABLE IF EXISTS {rollup_table(name)}")
    connection.execute(
        "UPDATE data_set_state SET ready = 0, reason = ? WHERE name = ?", (reason, name)
    )


def reset(connection: sqlite3.Connection, name: str) -> None:
    """Forget the rollup of a data set whose records are dropped (the version stays)."""
    connection.execute(f"DROP TABLE IF EXISTS {rollup_table(name)}")
    connection.execute(
        "UPDATE data_set_state SET rollup = NULL, ready = 0, reason = NULL WHERE name = ?", (name,)
    )


class Upkeep:
    """One write transaction's part in a data set's state: bumps the version
    on creation, then keeps a ready rollup exact through the write."""

    def __init__(self, connection: sqlite3.Connection, name: str) -> None:
        self.connection, self.name = connection, name
        ((rollup, ready),) = connection.execute(_BUMP, (name,)).fetchall()
        spec = _spec(rollup)
        self.layout = Layout(name, spec) if spec is not None and ready else None
        self.subtracted = False

    def _apply(self, condition: str, params: dict[str, Any], sign: int) -> None:
        if self.layout is None:
            return
        try:
            cursor = self.connection.execute(
                self.layout.delta_sql(condition, sign), {**self.layout.paths, **params}
            )
        except _OVERFLOWS as error:
            if not _overflowed(error):
                raise
            _not_ready(self.connection, self.name, f"a counter is beyond 64 bits ({error})")
            self.layout = None
            return
        self.subtracted = self.subtracted or (sign < 0 and cursor.rowcount > 0)

    def add(self, condition: str, params: dict[str, Any]) -> None:
        self._apply(condition, params, 1)

    def subtract(self, condition: str, params: dict[str, Any]) -> None:
        self._apply(condition, params, -1)

    def discard(self) -> None:
        """Every record is gone: so are the rows."""
        if self.layout is not None:
            self.connection.execute(f"DELETE FROM {self.layout.table}")

    def finish(self) -> None:
        """Rows whose records are all gone are deleted (the index holds only those)."""
        if self.layout is not None and self.subtracted:
            empty = rollup_table(self.name, ":empty")
            self.connection.execute(
                f"DELETE FROM {self.layout.table} INDEXED BY {empty} WHERE c0 = 0"
            )


def set_rollup(connections: Connections, name: str, spec: RollupSpec | None) -> None:
    text = None if spec is None else orjson.dumps(spec.document()).decode()
    with connections.transaction() as connection:
        Upkeep(connection, name)
        (current,) = connection.execute(
            "SELECT rollup FROM data_set_state WHERE name = ?", (name,)
        ).fetchone()
        if _spec(current) == spec:
            return
        connection.execute(f"DROP TABLE IF EXISTS {rollup_table(name)}")
        connection.execute(
            "UPDATE data_set_state SET rollup = ?, ready = 0, reason = NULL WHERE name = ?",
            (text, name),
        )


def build(connections: Connections, name: str, create_records: Any) -> bool:
    """The rollup rows from every record, one statement, one transaction."""
    with connections.transaction() as connection:
        Upkeep(connection, name)
        (rollup,) = connection.execute(
            "SELECT rollup FROM data_set_state WHERE name = ?", (name,)
        ).fetchone()
        spec = _spec(rollup)
        if spec is None:
            return False
        create_records(connection, name)
        layout = Layout(name, spec)
        connection.execute(f"DROP TABLE IF EXISTS {layout.table}")
        layout.create(connection)
        try:
            connection.execute(layout.delta_sql("true", 1), layout.paths)
        except _OVERFLOWS as error:
            if not _overflowed(error):
                raise
            _not_ready(connection, name, f"a counter is beyond 64 bits ({error})")
            return False
        connection.execute(
            "UPDATE data_set_state SET ready = 1, reason = NULL WHERE name = ?", (name,)
        )
        return True


def _value(v: Any, t: str) -> Any:
    """A group value back as the record's JSON value."""
    if t in ("text", "integer", "real"):
        return v
    if t in ("array", "object"):
        return orjson.loads(v)
    return {"true": True, "false": False}.get(t)


def _condition(layout: Layout, condition: Filter | PrefixFilter, bind: Params) -> str:
    """A filter on group values, matching as ``sql.where_sql`` does on records."""
    i = layout.column(condition.field)
    if isinstance(condition, PrefixFilter):
        text, length = bind(condition.prefix), bind(len(condition.prefix))
        return f"(substr(v{i}, 1, {length}) = {text} AND t{i} = 'text')"
    options = [f"(v{i} = {bind(condition.value)} AND t{i} != 'null')"]
    if condition.number is not None:
        options.append(f"(v{i} = {bind(condition.number)} AND t{i} IN ('integer', 'real'))")
    if condition.boolean is not None:
        options.append(f"t{i} = {bind(str(condition.boolean).lower())}")
    return "(" + " OR ".join(options) + ")"


def _rows_sql(
    layout: Layout,
    group: int,
    where: Where,
    group_by: tuple[str, ...],
    period: str | None,
    integer_sums: bool,
) -> tuple[str, dict[str, Any]]:
    bind = Params()
    clauses = [f"grp = {bind(group)}"]
    if rollups.uses_all_time(where, period):
        clauses.append(f"bucket = {ALL_TIME}")
    else:
        clauses.append(f"bucket > {ALL_TIME}")
        if where.start is not None:
            clauses.append(f"bucket >= {bind(micros(where.start))}")
        if where.end is not None:
            clauses.append(f"bucket < {bind(micros(where.end))}")
    conditions: tuple[Filter | PrefixFilter, ...] = (*where.filters, *where.prefixes)
    clauses += [_condition(layout, c, bind) for c in conditions]
    keys = [f"{k}{layout.column(f)}" for f in group_by for k in "vt"]
    if period is not None:
        keys.append(PERIODS[period].key)
    sums = [
        f"total(c{i})" if name.endswith(":isum") and not integer_sums else f"sum(c{i})"
        for i, name in enumerate(layout.counters)
    ]
    sql = f"SELECT {', '.join([*keys, *sums])} FROM {layout.table} WHERE {' AND '.join(clauses)}"
    if keys:
        sql += f" GROUP BY {', '.join(keys)}"
    return sql, bind.values


def rollup_rows(
    connections: Connections,
    name: str,
    group: int,
    where: Where,
    group_by: tuple[str, ...],
    period: str | None,
) -> list[Row]:
    """``RecordStore.rollup_rows``: one GROUP BY over the group's rows; values
    SQL keeps apart but that are the same JSON number (1 and 1.0) merged."""
    spec = read_state(connections, name).rollup
    if spec is None:
        return []
    layout = Layout(name, spec)
    try:
        sql, params = _rows_sql(layout, group, where, group_by, period, True)
        found = connections.select(sql, params)
    except sqlite3.OperationalError as error:
        if str(error) != "integer overflow":
            raise
        sql, params = _rows_sql(layout, group, where, group_by, period, False)
        found = connections.select(sql, params)
    merged: dict[tuple[Any, ...], Row] = {}
    width = 2 * len(group_by) + (period is not None)
    for found_row in found:
        row: Row = {f: _value(*found_row[2 * n : 2 * n + 2]) for n, f in enumerate(group_by)}
        if period is not None:
            row["_start_at"] = moment(found_row[width - 1])
        key = (*(rollups.dimension_key(row[f]) for f in group_by), row.get("_start_at"))
        counters = dict(zip(layout.counters, found_row[width:], strict=True))
        if key not in merged:
            merged[key] = {**row, **counters}
        else:
            for counter, value in counters.items():
                merged[key][counter] += value
    return list(merged.values())
