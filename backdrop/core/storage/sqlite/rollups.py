"""The data-set state and rollups on SQLite (``backdrop.core.rollups``).

``data_set_state`` holds one row per data set name: its ``version`` (+1 in
every write transaction, kept across drop and create so it never repeats),
the rollup spec (JSON) and whether it is built. A data set's rollup rows live
in one table, ``rollup_<name>`` (``Layout``): per (group, bucket, group
values, measure types) how many records and the sum of each measure, with
the coarser period starts as columns so a period query is a plain GROUP BY.
A dimension is two columns: ``v`` its SQL value as ``->>`` gives it (in a
column without affinity, so it compares exactly as filters on records do)
and ``t`` its ``json_type`` (``null`` also when missing), which keeps 1, 1.0,
"1" and true apart.

Writers keep a ready rollup exact in their transaction, in SQL (``Upkeep``):
the sums of the stored records a write replaces or removes are subtracted
(read from the records table before the change) and those of the new
records added (read back after it), each one INSERT … SELECT … GROUP BY …
ON CONFLICT over every group. A sum beyond 64 bits marks the rollup not
ready (queries then read the records) rather than failing the write.
"""

# ruff: noqa: S608 - statements are assembled from validated identifiers and
# placeholders only; every value is a bound parameter.

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import orjson

from backdrop.core.names import NAME_PATTERN
from backdrop.core.periods import PERIOD_KEYS, PERIODS
from backdrop.core.rollups import DataSetState, RollupSpec
from backdrop.core.storage.sqlite.connection import Connections
from backdrop.core.storage.sqlite.rows import path
from backdrop.core.storage.sqlite.rows import table as records_table

log = logging.getLogger(__name__)

ALL_TIME = -(2**63)  # the bucket of the ALL_TIME rows
_BUMP = (
    "INSERT INTO data_set_state (name, version) VALUES (?, 1) ON CONFLICT (name) "
    "DO UPDATE SET version = version + 1 RETURNING rollup, ready"
)
_OVERFLOWS = (sqlite3.IntegrityError, sqlite3.OperationalError)
_NUMBERS = "('integer', 'real')"
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
    """The columns of one spec's rollup table and the statements over them.

    A row is keyed by group, bucket, the group's values and the JSON type of
    each measure (``''`` when missing) and holds ``n`` (how many records)
    and per measure ``s`` (the sum of its values when they are numbers, else
    0). A measure's values rarely change type, so this adds few rows, and a
    write updates 1 + measures counters, not ``counter_names()``, which reads
    derive (``rollup_rows``)."""

    def __init__(self, name: str, spec: RollupSpec) -> None:
        self.name, self.spec = name, spec
        self.table = rollup_table(name)
        self.fields = list(dict.fromkeys(f for group in spec.groups for f in group))
        self.periods = PERIOD_KEYS[list(PERIODS).index(spec.grain) :]
        self.measures = range(len(spec.measures))
        self.dims = [f"{k}{i}" for i in range(len(self.fields)) for k in "vt"]
        self.keys = ["grp", "bucket", *self.dims, *(f"m{j}" for j in self.measures)]
        self.sums = ["n", *(f"s{j}" for j in self.measures)]
        self.paths = {f"f{i}": path(f) for i, f in enumerate(self.fields)}
        self.paths.update({f"m{j}": path(m) for j, m in enumerate(spec.measures)})

    def column(self, field: str) -> int:
        return self.fields.index(field)

    def create(self, connection: sqlite3.Connection) -> None:
        # No affinity for v and s: a value stays TEXT, INTEGER or REAL as ->> gave it.
        columns = ["grp INTEGER NOT NULL", "bucket INTEGER NOT NULL"]
        columns += [f"v{i} NOT NULL, t{i} TEXT NOT NULL" for i in range(len(self.fields))]
        columns += [f"m{j} TEXT NOT NULL" for j in self.measures]
        columns += [f"{k} INTEGER" for k in self.periods]
        columns.append("n INTEGER NOT NULL")
        columns += [
            f"s{j} NOT NULL CHECK (m{j} != 'integer' OR typeof(s{j}) = 'integer')"
            for j in self.measures
        ]
        connection.execute(
            f"CREATE TABLE {self.table} ({', '.join(columns)}, "
            f"PRIMARY KEY ({', '.join(self.keys)})) WITHOUT ROWID"
        )
        connection.execute(
            f"CREATE INDEX {rollup_table(self.name, ':empty')} ON {self.table} (n) WHERE n = 0"
        )

    def _source(self, selection: str) -> str:
        """Per record ``selection`` (``FROM … WHERE …`` over the records table)
        gives: its grain bucket, period starts, group values, measure types
        and values."""
        columns = [f"{self.periods[0]} AS ib", *(f"{k} AS i{k}" for k in self.periods)]
        for i in range(len(self.fields)):
            columns.append(f"coalesce(data ->> :f{i}, '') AS iv{i}")
            columns.append(f"coalesce(json_type(data, :f{i}), 'null') AS it{i}")
        for j in self.measures:
            columns.append(f"coalesce(json_type(data, :m{j}), '') AS im{j}")
            columns.append(f"data ->> :m{j} AS mv{j}")
        return f"SELECT {', '.join(columns)} {selection}"

    def _partials(self, selection: str) -> str:
        """``n`` and the sums of those records per bucket, values of every
        field and measure types: a batch's records share few of those, so the
        GROUP BYs per group below read few rows."""
        keys = ["ib", *(f"i{d}" for d in self.dims), *(f"im{j}" for j in self.measures)]
        columns = [*keys, *(f"i{k}" for k in self.periods), "count(*) AS n"]
        columns += [
            f"CASE WHEN im{j} IN {_NUMBERS} THEN sum(mv{j}) ELSE 0 END AS s{j}"
            for j in self.measures
        ]
        return (
            f"SELECT {', '.join(columns)} FROM ({self._source(selection)} LIMIT -1) "
            f"GROUP BY {', '.join(keys)}"
        )

    def _grain_rows(self) -> str:
        """The partials ``p`` summed per group, bucket, group values and
        measure types: one small GROUP BY per group."""
        selects = []
        for g, group in enumerate(self.spec.groups):
            keys = ["ib", *(f"i{k}{self.column(f)}" for f in group for k in "vt")]
            keys += [f"im{j}" for j in self.measures]
            columns = [f"{g} AS grp", "ib AS bucket"]
            for i, field in enumerate(self.fields):
                held = field in group
                columns += [f"iv{i}" if held else "''", f"it{i}" if held else "'null'"]
            columns += [f"im{j}" for j in self.measures]
            columns += [f"i{k}" for k in self.periods]
            columns += [f"sum({s}) AS {s}" for s in self.sums]
            selects.append(f"SELECT {', '.join(columns)} FROM p GROUP BY {', '.join(keys)}")
        return " UNION ALL ".join(selects)

    def delta_sql(self, selection: str, sign: int) -> str:
        """Add (or subtract) the sums of the records ``selection`` gives to
        every group's rows, the grain buckets' and ALL_TIME, in one statement."""
        minus = "-" if sign < 0 else ""
        columns = [*self.keys, *self.periods, *self.sums]
        values = [*self.keys[2:], *self.periods, *(f"{minus}{s}" for s in self.sums)]
        everything = [*self.keys[2:], *("NULL" for _ in self.periods)]
        everything += [f"{minus}sum({s})" for s in self.sums]
        updates = ", ".join(f"{s} = {s} + excluded.{s}" for s in self.sums)
        return (
            f"WITH p AS MATERIALIZED ({self._partials(selection)}), "
            f"grain ({', '.join(columns)}) AS MATERIALIZED ({self._grain_rows()}) "
            f"INSERT INTO {self.table} ({', '.join(columns)}) "
            f"SELECT grp, bucket, {', '.join(values)} FROM grain WHERE bucket IS NOT NULL "
            f"UNION ALL SELECT grp, {ALL_TIME}, {', '.join(everything)} FROM grain WHERE true "
            f"GROUP BY grp, {', '.join(self.keys[2:])} "
            f"ON CONFLICT ({', '.join(self.keys)}) DO UPDATE SET {updates}"
        )


def read_state(reader: Connections | sqlite3.Connection, name: str) -> DataSetState:
    """The state row (through ``Connections`` or inside a snapshot)."""
    sql = "SELECT version, rollup, ready FROM data_set_state WHERE name = ?"
    if isinstance(reader, Connections):
        found = reader.select(sql, (name,))
    else:
        found = reader.execute(sql, (name,)).fetchall()
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

    @property
    def maintaining(self) -> bool:
        """Whether this write keeps a ready rollup (else add/subtract do nothing)."""
        return self.layout is not None

    def _apply(self, selection: str, params: dict[str, Any], sign: int) -> None:
        if self.layout is None:
            return
        try:
            cursor = self.connection.execute(
                self.layout.delta_sql(selection, sign), {**self.layout.paths, **params}
            )
        except _OVERFLOWS as error:
            if not _overflowed(error):
                raise
            _not_ready(self.connection, self.name, f"a counter is beyond 64 bits ({error})")
            self.layout = None
            return
        self.subtracted = self.subtracted or (sign < 0 and cursor.rowcount > 0)

    def add(self, selection: str, params: dict[str, Any]) -> None:
        """Count the records ``selection`` (``FROM … [WHERE …]``) gives."""
        self._apply(selection, params, 1)

    def subtract(self, selection: str, params: dict[str, Any]) -> None:
        self._apply(selection, params, -1)

    def discard(self) -> None:
        """Every record is gone: so are the rows."""
        if self.layout is not None:
            self.connection.execute(f"DELETE FROM {self.layout.table}")

    def finish(self) -> None:
        """Rows whose records are all gone are deleted (the index holds only those)."""
        if self.layout is not None and self.subtracted:
            empty = rollup_table(self.name, ":empty")
            self.connection.execute(
                f"DELETE FROM {self.layout.table} INDEXED BY {empty} WHERE n = 0"
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
            connection.execute(layout.delta_sql(f"FROM {records_table(name)}", 1), layout.paths)
        except _OVERFLOWS as error:
            if not _overflowed(error):
                raise
            _not_ready(connection, name, f"a counter is beyond 64 bits ({error})")
            return False
        connection.execute(
            "UPDATE data_set_state SET ready = 1, reason = NULL WHERE name = ?", (name,)
        )
        return True
