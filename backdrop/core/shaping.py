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


def order_key(value: Any) -> tuple[Any, ...]:
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

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        value = row.get(sort.key)
        return (value is not None, order_key(value))

    return sorted(rows, key=key, reverse=sort.descending)


class Collects:
    """A query's collects, resolved once: partials → final values, merged
    partials across rows, and the null values of an empty period."""

    def __init__(self, collects: tuple[Collect, ...]):
        self.items = [
            (c.key, COLLECT_METHODS[c.method], c.field if c.legacy else None) for c in collects
        ]
        self.nulls: dict[str, Any] = {}
        for key, _, legacy_field in self.items:
            self.nulls[key] = None
            if legacy_field is not None:
                self.nulls[legacy_field] = None

    def finish(self, partials: dict[str, Any]) -> dict[str, Any]:
        """Final values; the legacy form repeats the set under the plain field name."""
        values: dict[str, Any] = {}
        for key, method, legacy_field in self.items:
            value = method.finish(partials[key])
            values[key] = value
            if legacy_field is not None:
                values[legacy_field] = value
        return values

    def merge(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """One partial per collect key, merged over several engine rows."""
        merged: dict[str, Any] = {}
        for key, method, _ in self.items:
            partial = rows[0][key]
            for row in rows[1:]:
                partial = method.merge(partial, row[key])
            merged[key] = partial
        return merged


def spans(period: Period, starts: list[datetime]) -> list[tuple[datetime, datetime]]:
    """(start, end) of each period; consecutive periods share a boundary, so
    only the last end needs calendar arithmetic."""
    if not starts:
        return []
    return list(zip(starts, [*starts[1:], period.shift(starts[-1], 1)], strict=True))


def period_series(
    rows: Iterable[dict[str, Any]],
    periods: list[tuple[datetime, datetime]],
    collects: Collects,
) -> list[dict[str, Any]]:
    """Every period of ``periods`` in time order; empty ones have ``_count: 0``
    and null collects."""
    by_start = {row["_start_at"]: row for row in rows}
    series = []
    for start, end in periods:
        row = by_start.get(start)
        if row is None:
            series.append({"_start_at": start, "_end_at": end, "_count": 0, **collects.nulls})
        else:
            finished = collects.finish(row)
            series.append({"_start_at": start, "_end_at": end, "_count": row["_count"], **finished})
    return series


def group_key(row: dict[str, Any], group_by: tuple[str, ...]) -> tuple[Any, ...]:
    """A group's identity; ``True`` and ``1`` are different groups (unlike as
    Python dict keys)."""
    return tuple((isinstance(row[field], bool), row[field]) for field in group_by)


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
    collects = Collects(query.collect)
    shaped = [
        {
            **{field: row[field] for field in query.group_by},
            "_count": row["_count"],
            **collects.finish(row),
        }
        for row in rows
    ]
    return _ordered(shaped, query)


def nested(
    rows: list[dict[str, Any]], query: Query, periods: list[tuple[datetime, datetime]]
) -> list[dict[str, Any]]:
    """group_by + period: one row per group with its totals and full ``values``
    list; partials of the group's periods are merged, not queried again.
    Groups are sorted and limited before their period lists are built."""
    collects = Collects(query.collect)
    members: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        members.setdefault(group_key(row, query.group_by), []).append(row)
    summaries = [
        {
            **{field: group[0][field] for field in query.group_by},
            "_count": sum(member["_count"] for member in group),
            "_group_count": len(group),
            **collects.finish(collects.merge(group)),
        }
        for key, group in members.items()
    ]
    kept = _ordered(summaries, query)
    for summary in kept:
        group = members[group_key(summary, query.group_by)]
        summary["values"] = period_series(group, periods, collects)
    return kept


def flatten(groups: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    """One flat row per (group, period), in group order then time order."""
    rows: list[dict[str, Any]] = []
    for group in groups:
        fields = {field: group[field] for field in query.group_by}
        rows.extend({**fields, **value} for value in group["values"])
    return rows
