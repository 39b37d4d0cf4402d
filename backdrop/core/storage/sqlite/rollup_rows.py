"""Reading a data set's rollup rows (``RecordStore.rollup_rows``): one GROUP
BY over the rows of one group, with filters on the typed dimension columns
matching as ``sql.where_sql`` matches records (layout in ``rollups``)."""

# ruff: noqa: S608 - statements are assembled from validated identifiers and
# placeholders only; every value is a bound parameter.

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from backdrop.core import rollups
from backdrop.core.periods import PERIODS
from backdrop.core.query import Filter, PrefixFilter, Where
from backdrop.core.storage.base import Row
from backdrop.core.storage.sqlite.connection import Connections
from backdrop.core.storage.sqlite.rollups import ALL_TIME, Layout, read_state
from backdrop.core.storage.sqlite.rows import micros, moment
from backdrop.core.storage.sqlite.sql import Params
from backdrop.errors import StorageUnavailable


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
    keys += [f"m{j}" for j in layout.measures]
    total = "sum" if integer_sums else "total"
    sums = ["sum(n)", *(f"{total}(s{j})" for j in layout.measures)]
    sql = f"SELECT {', '.join([*keys, *sums])} FROM {layout.table} WHERE {' AND '.join(clauses)}"
    if keys:
        sql += f" GROUP BY {', '.join(keys)}"
    return sql, bind.values


_NUMBERS = ("integer", "real")
_NOT_NUMBERS = ("true", "false", "text", "array", "object")


def _counters(measures: tuple[str, ...], types: Any, n: int, sums: Any) -> dict[str, Any]:
    """``counter_names()`` of rows with these measure types, ``n`` records and
    these sums (a sum counts only for a number type)."""
    counters: dict[str, Any] = {"_count": n}
    for measure, kind, total in zip(measures, types, sums, strict=True):
        counters[f"{measure}:present"] = n if kind else 0
        counters[f"{measure}:n"] = n if kind in _NUMBERS else 0
        counters[f"{measure}:isum"] = total if kind == "integer" else 0
        counters[f"{measure}:fsum"] = float(total) if kind == "real" else 0.0
        counters[f"{measure}:floats"] = n if kind == "real" else 0
        counters[f"{measure}:bad"] = n if kind in _NOT_NUMBERS else 0
    return counters


def rollup_rows(
    connections: Connections,
    name: str,
    group: int,
    where: Where,
    group_by: tuple[str, ...],
    period: str | None,
) -> list[Row]:
    """``RecordStore.rollup_rows``: one GROUP BY over the group's rows (per
    measure types too, few rows, whose counters are derived and summed
    here); values SQL keeps apart but that are the same JSON number (1 and
    1.0) merged. The state and the rows are read in one snapshot: a rollup
    reset or rebuilt since the caller read the state is a 503 to retry, never
    a missing table or a wrong answer."""
    with connections.snapshot() as connection:
        state = read_state(connection, name)
        if state.rollup is None or not state.ready:
            raise StorageUnavailable(
                f"The rollup of {name} changed while the query ran, please retry"
            )
        spec = state.rollup
        layout = Layout(name, spec)
        try:
            sql, params = _rows_sql(layout, group, where, group_by, period, True)
            found = connection.execute(sql, params).fetchall()
        except sqlite3.OperationalError as error:
            if str(error) != "integer overflow":
                raise
            sql, params = _rows_sql(layout, group, where, group_by, period, False)
            found = connection.execute(sql, params).fetchall()
    merged: dict[tuple[Any, ...], Row] = {}
    width = 2 * len(group_by) + (period is not None)
    for found_row in found:
        row: Row = {f: _value(*found_row[2 * n : 2 * n + 2]) for n, f in enumerate(group_by)}
        if period is not None:
            row["_start_at"] = moment(found_row[width - 1])
        key = (*(rollups.dimension_key(row[f]) for f in group_by), row.get("_start_at"))
        m = len(layout.measures)
        types, n, sums = (
            found_row[width : width + m],
            found_row[width + m],
            found_row[width + m + 1 :],
        )
        counters = _counters(spec.measures, types, n, sums)
        if key not in merged:
            merged[key] = {**row, **counters}
        else:
            for counter, value in counters.items():
                merged[key][counter] += value
    return list(merged.values())
