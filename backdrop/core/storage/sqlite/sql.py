"""Record selection as SQL: one entry per kind of condition in ``CONDITIONS``.

Filters read the record's JSON with ``->>``, which gives a JSON string as
TEXT, a number as INTEGER/REAL and a boolean as 0/1; SQLite never equates
TEXT with a number, so only numbers and booleans need a ``json_type`` check.
"""

# ruff: noqa: S608 - statements are assembled from validated identifiers and
# placeholders only; every value is a bound parameter.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backdrop.core.query import Filter, PrefixFilter, Sort, Where
from backdrop.core.storage.sqlite.rows import micros, path

NUMERIC = "('integer', 'real')"


class Params:
    """Named bound parameters for one statement."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f":{name}"


def _equal(condition: Filter, bind: Params) -> str:
    if condition.field == "_id":
        return f"_id = {bind(condition.value)}"
    where = bind(path(condition.field))
    options = [f"data ->> {where} = {bind(condition.value)}"]
    if condition.number is not None:
        options.append(
            f"(data ->> {where} = {bind(condition.number)} "
            f"AND json_type(data, {where}) IN {NUMERIC})"
        )
    if condition.boolean is not None:
        options.append(f"json_type(data, {where}) = {bind(str(condition.boolean).lower())}")
    return "(" + " OR ".join(options) + ")"


def _prefix(condition: PrefixFilter, bind: Params) -> str:
    text, length = bind(condition.prefix), bind(len(condition.prefix))
    if condition.field == "_id":
        return f"substr(_id, 1, {length}) = {text}"
    where = bind(path(condition.field))
    return f"(substr(data ->> {where}, 1, {length}) = {text} AND json_type(data, {where}) = 'text')"


CONDITIONS: dict[type, Callable[[Any, Params], str]] = {
    Filter: _equal,
    PrefixFilter: _prefix,
}


def where_sql(where: Where, bind: Params) -> list[str]:
    """The clauses (to be joined by AND) selecting the records of ``where``."""
    clauses = [
        CONDITIONS[type(condition)](condition, bind)
        for condition in (*where.filters, *where.prefixes)
    ]
    if where.start is not None:
        clauses.append(f"_timestamp >= {bind(micros(where.start))}")
    if where.end is not None:
        operator = "<=" if where.end_inclusive else "<"
        clauses.append(f"_timestamp {operator} {bind(micros(where.end))}")
    return clauses


def order_sql(sort: Sort | None, bind: Params) -> str:
    """ORDER BY terms: the sort key then ``_id``, by default the index order."""
    if sort is None:
        return "_timestamp, _id"
    if sort.key in ("_id", "_timestamp", "_updated_at"):
        key = sort.key
    else:
        key = f"data ->> {bind(path(sort.key))}"
    order = key + (" DESC" if sort.descending else "")
    return order if sort.key == "_id" else f"{order}, _id"


def select_sql(table: str, columns: str, clauses: list[str]) -> str:
    sql = f"SELECT {columns} FROM {table}"
    return sql + " WHERE " + " AND ".join(clauses) if clauses else sql
