"""A query's result rows → what the explorer draws and tabulates.

The page's script only draws: the series are built here, where they can be
tested. Period queries become lines over time, one series per group (nested
or flattened rows alike); ``group_by`` alone becomes bars, one per group.
The plotted value is the first numeric collect (``sum``, ``mean``,
``count``), else ``_count``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backdrop.core.query import Query

MAX_SERIES = 50  # more groups than this are listed in the table, not drawn
NUMERIC_METHODS = ("sum", "mean", "count")


def value_key(query: Query) -> str:
    for collect in query.collect:
        if collect.method in NUMERIC_METHODS:
            return collect.key
    return "_count"


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _label(row: dict[str, Any], group_by: tuple[str, ...]) -> str:
    return " / ".join(str(row.get(field)) for field in group_by)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _line(series: dict[str, dict[datetime, Any]], key: str) -> dict[str, Any]:
    starts = sorted({start for points in series.values() for start in points})
    drawn = list(series.items())[:MAX_SERIES]
    return {
        "kind": "line",
        "value": key,
        "x": [_epoch(start) for start in starts],
        "series": [
            {"label": label, "values": [_number(points.get(start)) for start in starts]}
            for label, points in drawn
        ],
        "omitted": max(0, len(series) - MAX_SERIES),
    }


def chart(query: Query, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The chart of ``rows`` (the result of ``query``), or None for raw records."""
    key = value_key(query)
    if query.period is None:
        if not query.group_by:
            return None
        drawn = rows[:MAX_SERIES]
        return {
            "kind": "bar",
            "value": key,
            "x": list(range(len(drawn))),
            "labels": [_label(row, query.group_by) for row in drawn],
            "series": [{"label": key, "values": [_number(row.get(key)) for row in drawn]}],
            "omitted": max(0, len(rows) - MAX_SERIES),
        }
    series: dict[str, dict[datetime, Any]] = {}
    for row in rows:
        label = _label(row, query.group_by) if query.group_by else key
        points = series.setdefault(label, {})
        for period in row["values"] if "values" in row else [row]:
            points[period["_start_at"]] = period.get(key)
    return _line(series, key)


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and flat rows: a nested group becomes one row per period, with
    the group's fields (as the CSV export lays it out)."""
    flat: list[dict[str, Any]] = []
    for row in rows:
        if isinstance(row.get("values"), list):
            group = {k: v for k, v in row.items() if k != "values"}
            flat.extend({**group, **period} for period in row["values"])
        else:
            flat.append(row)
    columns: dict[str, None] = {}
    for row in flat:
        columns.update(dict.fromkeys(row))
    return list(columns), flat
