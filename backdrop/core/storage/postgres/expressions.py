"""Record fields, filters and orderings as SQL, values always bound parameters.

``FILTERS`` is the one table of filter operators: each maps to an SQL template
over ``{x}`` (the field as JSONB) or a column. Field names are quoted literals
(``sql.Literal``) inside self-contained expressions, so a template can repeat
``{x}`` without repeating parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from backdrop.core.query import Filter, Sort, Where
from backdrop.core.storage.postgres.nul import storable
from backdrop.core.storage.postgres.schema import TIME_COLUMNS

FILTERS = {
    "equals": "{x} IN ({values})",
    "id_equals": "id = %s",
    "prefix": "(jsonb_typeof({x}) = 'string' AND starts_with({x} #>> '{{}}', %s::text))",
    "id_prefix": "starts_with(id, %s::text)",
    "start": "timestamp >= %s",
    "end": "timestamp < %s",
    "end_inclusive": "timestamp <= %s",
    "present": "jsonb_typeof({x}) <> 'null'",
    "column_present": "{x} IS NOT NULL",
}

_TYPE_RANK = (
    "CASE jsonb_typeof({x}) WHEN 'boolean' THEN 1 WHEN 'number' THEN 2 "
    "WHEN 'string' THEN 3 ELSE 0 END {d}"
)
_BY_TYPE = (
    "CASE WHEN jsonb_typeof({x}) = 'boolean' THEN ({x})::boolean END {d}",
    "CASE WHEN jsonb_typeof({x}) = 'number' THEN ({x})::numeric END {d}",
    "CASE WHEN jsonb_typeof({x}) = 'string' THEN {x} #>> '{{}}' END COLLATE \"C\" {d}",
)


class Clauses:
    """SQL pieces with their parameters, kept in order."""

    def __init__(self) -> None:
        self.parts: list[sql.Composable] = []
        self.params: list[Any] = []

    def add(self, template: str, *params: Any, **composables: sql.Composable) -> None:
        self.parts.append(sql.SQL(template).format(**composables))
        self.params.extend(params)

    def joined(self, separator: str) -> sql.Composed:
        return sql.SQL(separator).join(self.parts)


def field(name: str) -> sql.Composable:
    """A record field as a JSONB expression (NULL when the record lacks it)."""
    if not storable(name):
        return sql.SQL("NULL::jsonb")
    if name == "_id":
        return sql.SQL("to_jsonb(id)")
    if name in TIME_COLUMNS:
        return sql.SQL("to_jsonb({})").format(sql.Identifier(TIME_COLUMNS[name]))
    return sql.SQL("(data -> {}::text)").format(sql.Literal(name))


def column(name: str) -> sql.Composable:
    """A time field's own column (``_timestamp`` → ``timestamp``)."""
    return sql.Identifier(TIME_COLUMNS[name])


def _equals(clauses: Clauses, flt: Filter, x: sql.Composable) -> None:
    candidates: list[Any] = [flt.value]
    if flt.number is not None:
        candidates.append(flt.number)
    if flt.boolean is not None:
        candidates.append(flt.boolean)
    values = sql.SQL(", ").join(sql.SQL("%s") for _ in candidates)
    clauses.add(FILTERS["equals"], *map(Jsonb, candidates), x=x, values=values)


def matching(
    clauses: Clauses, selection: Where, value: Callable[[str], sql.Composable] = field
) -> bool:
    """Add ``selection``'s filters and prefixes over the JSONB ``value`` of
    each field name (``_id`` by its column when ``value`` is ``field``).
    False (and a FALSE clause) when a text cannot be stored, so matches nothing."""
    texts = [text for c in (*selection.filters, *selection.prefixes) for text in vars(c).values()]
    if not storable(*texts):
        clauses.add("FALSE")
        return False
    by_id = value is field
    for flt in selection.filters:
        if by_id and flt.field == "_id":
            clauses.add(FILTERS["id_equals"], flt.value)
        else:
            _equals(clauses, flt, value(flt.field))
    for prefix in selection.prefixes:
        if by_id and prefix.field == "_id":
            clauses.add(FILTERS["id_prefix"], prefix.prefix)
        else:
            clauses.add(FILTERS["prefix"], prefix.prefix, x=value(prefix.field))
    return True


def where(data_set: str, selection: Where) -> Clauses:
    """The conditions selecting ``selection``'s records of ``data_set``."""
    clauses = Clauses()
    clauses.add("data_set = %s", data_set)
    if not matching(clauses, selection):
        return clauses
    if selection.start is not None:
        clauses.add(FILTERS["start"], selection.start)
    if selection.end is not None:
        clauses.add(FILTERS["end_inclusive" if selection.end_inclusive else "end"], selection.end)
    return clauses


def present(clauses: Clauses, name: str) -> None:
    """Add the condition that the record has ``name`` with a non-null value."""
    if name in TIME_COLUMNS:
        clauses.add(FILTERS["column_present"], x=column(name))
    else:
        clauses.add(FILTERS["present"], x=field(name))


def order(sort: Sort | None) -> sql.Composed:
    """ORDER BY items: missing and null first ascending, then booleans, numbers,
    strings (by code point), the same order as ``query.sorted_set``; then id."""
    clauses = Clauses()
    if sort is None:
        clauses.add("timestamp ASC NULLS FIRST")
    elif sort.key == "_id":
        clauses.add("id DESC" if sort.descending else "id ASC")
    elif sort.key in TIME_COLUMNS:
        direction = "DESC NULLS LAST" if sort.descending else "ASC NULLS FIRST"
        clauses.add(f"{{c}} {direction}", c=column(sort.key))
    else:
        x, d = field(sort.key), sql.SQL("DESC" if sort.descending else "ASC")
        for template in (_TYPE_RANK, *_BY_TYPE):
            clauses.add(template, x=x, d=d)
    clauses.add("id ASC")
    return clauses.joined(", ")
