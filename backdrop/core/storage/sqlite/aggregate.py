"""Grouped queries inside SQLite: one entry per collect method in ``COLLECTS``.

An inner query computes the few values each record contributes (its group
fields' JSON texts, period key, collected values); the outer one groups them.
Sums run as integers and, if one overflows 64 bits, again as floats.
"""

# ruff: noqa: S608 - statements are assembled from validated identifiers and
# placeholders only; every value is a bound parameter.

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from backdrop.core.periods import PERIODS
from backdrop.core.query import COLLECT_METHODS, Collect, Where
from backdrop.core.rollups import dimension_key
from backdrop.core.storage.base import Row
from backdrop.core.storage.sqlite.rows import moment, path, table
from backdrop.core.storage.sqlite.sql import Params, select_sql, where_sql
from backdrop.errors import InvalidQuery

Reader = Callable[[tuple[Any, ...]], tuple[Any, bool]]
"""Turns a collect's column values into (partial, saw a non-numeric value)."""


class RecordColumns:
    """The per-record values of the inner query, each computed once per record,
    so the sort behind GROUP BY carries a few small values rather than every
    record's JSON text.

    Per field: ``v`` its SQL value (``->>``: TEXT, INTEGER/REAL, or 0/1 for
    booleans, NULL when missing or null), ``b`` whether a 0/1 is a boolean
    (asked of ``json_type`` only for those rows), and ``j`` its JSON text
    (``->``: ``"x"``, ``1``, ``true``, ``null``; NULL when missing).
    """

    def __init__(self, bind: Params) -> None:
        self.bind = bind
        self.paths: dict[str, str] = {}
        self.columns: dict[str, str] = {}  # alias → expression

    def _column(self, field: str, kind: str) -> str:
        if field not in self.paths:
            self.paths[field] = self.bind(path(field))
        where = self.paths[field]
        alias = f"{kind}{list(self.paths).index(field)}"
        if alias not in self.columns:
            self.columns[alias] = {
                "v": f"data ->> {where}",
                "b": f"CASE WHEN data ->> {where} IN (0, 1) "
                f"THEN json_type(data, {where}) IN ('true', 'false') END",
                "j": f"data -> {where}",
            }[kind]
        return alias

    def value(self, field: str) -> str:
        return self._column(field, "v")

    def is_boolean(self, field: str) -> str:
        return self._column(field, "b")

    def json(self, field: str) -> str:
        return self._column(field, "j")


def _numeric(field: str, columns: RecordColumns, integer_sums: bool) -> list[str]:
    """The sum of a field's values and whether any was text or a boolean.
    Strings and booleans make the query invalid, so the sum and count need
    not leave them out: they are only used when there are none."""
    value, boolean = columns.value(field), columns.is_boolean(field)
    total = f"sum({value})" if integer_sums else f"sum(CAST({value} AS REAL))"
    return [total, f"max(typeof({value}) = 'text' OR {boolean})"]


def _sum(field: str, columns: RecordColumns, integer_sums: bool) -> tuple[list[str], Reader]:
    return _numeric(field, columns, integer_sums), lambda cols: (cols[0], bool(cols[1]))


def _mean(field: str, columns: RecordColumns, integer_sums: bool) -> tuple[list[str], Reader]:
    expressions = [*_numeric(field, columns, integer_sums), f"count({columns.value(field)})"]
    return expressions, lambda cols: ([cols[0] or 0, cols[2]], bool(cols[1]))


def _count(field: str, columns: RecordColumns, integer_sums: bool) -> tuple[list[str], Reader]:
    return [f"count({columns.json(field)})"], lambda cols: (cols[0], False)


def _set(field: str, columns: RecordColumns, integer_sums: bool) -> tuple[list[str], Reader]:
    # The comma-joined distinct JSON texts are a JSON array that keeps every
    # value's type.
    def read(cols: tuple[Any, ...]) -> tuple[Any, bool]:
        return (orjson.loads(f"[{cols[0]}]") if cols[0] is not None else []), False

    return [f"group_concat(DISTINCT {columns.json(field)})"], read


COLLECTS: dict[str, Callable[[str, RecordColumns, bool], tuple[list[str], Reader]]] = {
    "sum": _sum,
    "mean": _mean,
    "count": _count,
    "set": _set,
}


@dataclass
class _Statement:
    """One aggregate statement and where its columns are in each row."""

    sql: str
    params: dict[str, Any]
    count_column: int
    readers: list[tuple[str, int, int, Reader]]  # key, first column, width, reader


def _statement(
    data_set: str,
    where: Where,
    group_by: tuple[str, ...],
    period: str | None,
    collects: tuple[Collect, ...],
    integer_sums: bool,
) -> _Statement:
    bind = Params()
    columns = RecordColumns(bind)
    clauses = where_sql(where, bind)
    # Group on each field's JSON text (one JSON call per record): 1, "1"
    # and true stay apart and come back with their JSON types.
    keys = [columns.json(field) for field in group_by]
    groups = list(keys)
    if period is not None:
        key = PERIODS[period].key
        columns.columns["period"] = key  # the period-key column itself
        groups.append("period")
        clauses.append(f"{key} IS NOT NULL")
    selects = [*groups, "count(*)"]
    readers = []
    for collect in collects:
        if collect.method not in COLLECTS:
            raise InvalidQuery("Unknown collection method")
        expressions, reader = COLLECTS[collect.method](collect.field, columns, integer_sums)
        readers.append((collect.key, len(selects), len(expressions), reader))
        selects.extend(expressions)
    inner_columns = ", ".join(f"{sql} AS {alias}" for alias, sql in columns.columns.items())
    inner = select_sql(table(data_set), inner_columns or "1", clauses)
    if any(alias != "period" for alias in columns.columns):
        # LIMIT -1 keeps SQLite from flattening the inner query into the
        # outer one, which would sort whole records and read them after.
        inner += " LIMIT -1"
    sql = f"SELECT {', '.join(selects)} FROM ({inner})"
    if groups:
        sql += " GROUP BY " + ", ".join(groups)
    if keys:
        # Records whose group field is missing or null are left out.
        sql += " HAVING " + " AND ".join(f"{j} IS NOT NULL AND {j} != 'null'" for j in keys)
    return _Statement(sql, bind.values, len(groups), readers)


def _results(
    statement: _Statement, rows: list[Any], group_by: tuple[str, ...], period: str | None
) -> list[Row]:
    results = []
    invalid = False
    for row in rows:
        if not row[statement.count_column]:
            continue  # an ungrouped aggregate over no records
        result: Row = {field: orjson.loads(row[i]) for i, field in enumerate(group_by)}
        if period is not None:
            result["_start_at"] = moment(row[len(group_by)])
        result["_count"] = row[statement.count_column]
        for key, start, width, reader in statement.readers:
            result[key], non_numeric = reader(tuple(row[start : start + width]))
            invalid = invalid or non_numeric
        results.append(result)
    if invalid:
        raise InvalidQuery("invalid collect function")
    return results


def aggregate(
    select: Callable[[str, Any], list[Any]],
    data_set: str,
    where: Where,
    group_by: tuple[str, ...],
    period: str | None,
    collects: tuple[Collect, ...],
) -> list[Row]:
    """``RecordStore.aggregate`` over ``select`` (rows of a records table)."""
    try:
        statement = _statement(data_set, where, group_by, period, collects, True)
        rows = select(statement.sql, statement.params)
    except sqlite3.OperationalError as error:
        if str(error) != "integer overflow":
            raise
        statement = _statement(data_set, where, group_by, period, collects, False)
        rows = select(statement.sql, statement.params)
    return merge_equal_groups(_results(statement, rows, group_by, period), group_by, collects)


def merge_equal_groups(
    rows: list[Row], group_by: tuple[str, ...], collects: tuple[Collect, ...]
) -> list[Row]:
    """One row per group value: JSON texts ``1`` and ``1.0`` are different
    groups in SQL but the same number, as in the other engines (a list or
    object value is keyed by its JSON text)."""
    merged: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        key = (tuple(dimension_key(row[f]) for f in group_by), row.get("_start_at"))
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
