"""``aggregate`` as one GROUP BY query, collects computed in SQL.

``COLLECTS`` is the one table of collect methods: the SQL columns a method
selects over ``{x}`` (the field as JSONB) and how those columns become the
partial value ``backdrop.core.query.CollectMethod`` describes. Adding a method
is one entry here (and one in the query model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from psycopg import sql

from backdrop.core.query import Collect, Where
from backdrop.core.storage.base import Row
from backdrop.core.storage.postgres import expressions
from backdrop.core.storage.postgres.schema import PERIOD_COLUMNS, TIME_COLUMNS
from backdrop.errors import InvalidQuery


@dataclass(frozen=True)
class CollectSQL:
    """The select items of one collect method and their decoding."""

    columns: tuple[str, ...]
    partial: Callable[[Sequence[Any]], Any]


# sum and mean select: the numeric sum; whether every value was an integer
# (JSONB keeps "2.0" but prints a float written as 1e20 in full, hence the
# int64 bound); how many numbers; whether any value was neither number nor null.
_NUMERIC = (
    "sum(({x})::numeric) FILTER (WHERE jsonb_typeof({x}) = 'number')",
    "bool_and(({x})::text !~ '[.eE]' AND abs(({x})::numeric) < 2 ^ 63::numeric) "
    "FILTER (WHERE jsonb_typeof({x}) = 'number')",
    "count(*) FILTER (WHERE jsonb_typeof({x}) = 'number')",
    "bool_or(jsonb_typeof({x}) NOT IN ('number', 'null'))",
)


def _number(total: Decimal | None, integral: bool | None) -> int | float | None:
    if total is None:
        return None
    return int(total) if integral else float(total)


def _numeric(columns: Sequence[Any]) -> tuple[int | float | None, int]:
    total, integral, n, invalid = columns
    if invalid:
        raise InvalidQuery("invalid collect function")
    return _number(total, integral), n


def _sum(columns: Sequence[Any]) -> int | float | None:
    return _numeric(columns)[0]


def _mean(columns: Sequence[Any]) -> list[int | float]:
    total, n = _numeric(columns)
    return [0 if total is None else total, n]


COLLECTS: dict[str, CollectSQL] = {
    "count": CollectSQL(("count({x})",), lambda columns: columns[0]),
    "set": CollectSQL(
        ("coalesce(jsonb_agg(DISTINCT {x}) FILTER (WHERE {x} IS NOT NULL), '[]')",),
        lambda columns: columns[0],
    ),
    "sum": CollectSQL(_NUMERIC, _sum),
    "mean": CollectSQL(_NUMERIC, _mean),
}


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Aggregation:
    """One aggregate query: its statement, parameters and row decoding."""

    statement: sql.Composed
    params: list[Any]
    keys: tuple[str, ...]  # group fields, then _start_at with a period
    collects: tuple[Collect, ...]  # distinct by key

    @classmethod
    def build(
        cls,
        data_set: str,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
        collects: tuple[Collect, ...],
    ) -> Aggregation:
        select, condition = expressions.Clauses(), expressions.where(data_set, where)
        for name in group_by:
            expression = (
                expressions.column(name) if name in TIME_COLUMNS else expressions.field(name)
            )
            select.add("{x}", x=expression)
            expressions.present(condition, name)
        keys = group_by
        if period is not None:
            start = sql.Identifier(PERIOD_COLUMNS[f"_{period}_start_at"])
            select.add("{x}", x=start)
            condition.add(expressions.FILTERS["column_present"], x=start)
            keys = (*group_by, "_start_at")
        select.add("count(*)")
        unique = tuple({collect.key: collect for collect in collects}.values())
        for collect in unique:
            x = expressions.field(collect.field)
            for template in COLLECTS[collect.method].columns:
                select.add(template, x=x)
        statement = sql.SQL("SELECT {select} FROM backdrop_records WHERE {condition}").format(
            select=select.joined(", "), condition=condition.joined(" AND ")
        )
        if keys:
            positions = sql.SQL(", ").join(sql.Literal(i + 1) for i in range(len(keys)))
            statement += sql.SQL(" GROUP BY {}").format(positions)
        return cls(statement, [*select.params, *condition.params], keys, unique)

    def rows(self, fetched: list[tuple[Any, ...]]) -> list[Row]:
        if not self.keys and fetched and fetched[0][0] == 0:
            return []  # no matching records: no row (a bare aggregate always has one)
        return [self._row(row) for row in fetched]

    def _row(self, row: tuple[Any, ...]) -> Row:
        result: Row = {key: _utc(value) for key, value in zip(self.keys, row, strict=False)}
        result["_count"] = row[len(self.keys)]
        position = len(self.keys) + 1
        for collect in self.collects:
            method = COLLECTS[collect.method]
            columns = row[position : position + len(method.columns)]
            result[collect.key] = method.partial(columns)
            position += len(method.columns)
        return result
