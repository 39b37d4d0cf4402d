"""Engine rows → response rows (SPEC 5.3), in Python and without the database.

Engines answer grouped queries with one row per group (and period start)
holding *partial* collect values. Here those partials are finished, merged
across periods for nested groups (``COLLECT_METHODS``), laid out over the full
list of periods (empty periods get ``_count: 0`` and null collects), sorted,
limited and, on request, flattened.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from backdrop.core.periods import Period
from backdrop.core.query import COLLECT_METHODS, Collect, Query, Sort


def order_key(value: Any) -> tuple:
    """Sort key over mixed JSON values: null < booleans < numbers < strings,
    then lists element by element."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, datetime):
        return (3, value.isoformat())
    if isinstance(value, list | tuple):
        return (4, tuple(order_key(v) for v in value))
    return (3, str(value))


def sort_rows(rows: list[dict[str, Any]], sort: Sort) -> list[dict[str, Any]]:
    """Stable sort by one key; nulls (or a missing key) first ascending, last descending."""

    def key(row: dict[str, Any]) -> tuple:
        value = row.get(sort.key)
        return (value is not None, order_key(value))

    return sorted(rows, key=key, reverse=sort.descending)


def finish(partials: dict[str, Any], collects: tuple[Collect, ...]) -> dict[str, Any]:
    """Final collect values from partials; the legacy form repeats the set
    under the plain field name."""
    values: dict[str, Any] = {}
    for collect in collects:
        value = COLLECT_METHODS[collect.method].finish(partials[collect.key])
        values[collect.key] = value
        if collect.legacy:
            values[collect.field] = value
    return values


def null_collects(collects: tuple[Collect, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for collect in collects:
        values[collect.key] = None
        if collect.legacy:
            values[collect.field] = None
    return values


def merge(partials: Iterable[dict[str, Any]], collects: tuple[Collect, ...]) -> dict[str, Any]:
    """One partial per collect key, merged over several engine rows."""
    merged: dict[str, Any] = {}
    for row in partials:
        for collect in collects:
            method = COLLECT_METHODS[collect.method]
            if collect.key in merged:
                merged[collect.key] = method.merge(merged[collect.key], row[collect.key])
            else:
                merged[collect.key] = row[collect.key]
    return merged


def period_row(
    start: datetime, period: Period, row: dict[str, Any] | None, collects: tuple[Collect, ...]
) -> dict[str, Any]:
    shaped = {"_start_at": start, "_end_at": period.shift(start, 1)}
    if row is None:
        return {**shaped, "_count": 0, **null_collects(collects)}
    return {**shaped, "_count": row["_count"], **finish(row, collects)}


def period_series(
    rows: Iterable[dict[str, Any]],
    starts: list[datetime],
    period: Period,
    collects: tuple[Collect, ...],
) -> list[dict[str, Any]]:
    """Every period of ``starts`` in time order, empty ones included."""
    by_start = {row["_start_at"]: row for row in rows}
    return [period_row(start, period, by_start.get(start), collects) for start in starts]


def _group_key(row: dict[str, Any], group_by: tuple[str, ...]) -> tuple:
    return tuple(row[field] for field in group_by)


def _ordered(rows: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    """Group fields ascending, then ``sort_by`` (stable), then ``limit``."""
    rows = sorted(rows, key=lambda row: tuple(order_key(row[f]) for f in query.group_by))
    if query.sort_by is not None:
        rows = sort_rows(rows, query.sort_by)
    if query.limit is not None:
        rows = rows[: query.limit]
    return rows


def grouped(rows: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    """group_by without period: one row per combination of the group fields."""
    shaped = [
        {
            **{field: row[field] for field in query.group_by},
            "_count": row["_count"],
            **finish(row, query.collect),
        }
        for row in rows
    ]
    return _ordered(shaped, query)


def nested(
    rows: list[dict[str, Any]], query: Query, starts: list[datetime]
) -> list[dict[str, Any]]:
    """group_by + period: one row per group with its totals and full ``values``
    list; partials of the group's periods are merged, not queried again."""
    assert query.period is not None
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(_group_key(row, query.group_by), []).append(row)
    shaped = []
    for key, members in groups.items():
        shaped.append(
            {
                **dict(zip(query.group_by, key, strict=True)),
                "_count": sum(member["_count"] for member in members),
                "_group_count": len(members),
                **finish(merge(members, query.collect), query.collect),
                "values": period_series(members, starts, query.period, query.collect),
            }
        )
    return _ordered(shaped, query)


def flatten(groups: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    """One flat row per (group, period), in group order then time order."""
    rows = []
    for group in groups:
        fields = {field: group[field] for field in query.group_by}
        rows.extend({**fields, **value} for value in group["values"])
    return rows
