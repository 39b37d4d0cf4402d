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
    sums = layout.counter_sums(integer_sums)
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
        counters = dict(zip(layout.spec.counter_names(), found_row[width:], strict=True))
        if key not in merged:
            merged[key] = {**row, **counters}
        else:
            for counter, value in counters.items():
                merged[key][counter] += value
    return list(merged.values())
