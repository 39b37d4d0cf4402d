"""Run a parsed ``Query`` against a storage engine (SPEC 5.3).

Raw queries are one ``engine.find``. Grouped queries are one
``rollups.aggregate``: from the data set's rollup when it is built and covers
the query, else ``engine.aggregate`` over the records (filtering, grouping and
collects run in the database either way), then ``shaping`` lays the rows out.
A ``duration`` first becomes a range of whole periods; when its leading (or,
backward, trailing) periods hold no data the range slides towards the data,
located with one sorted ``find`` of the records rather than by re-running the
aggregate.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from backdrop import metrics
from backdrop.core import rollups, shaping
from backdrop.core.periods import Period
from backdrop.core.query import Query, Sort, Where
from backdrop.core.rollups import DataSetState
from backdrop.core.storage.base import StorageEngine
from backdrop.errors import InvalidQuery

MAX_PERIODS = 100_000
INVALID_COLLECT = "invalid collect function"  # the engines' message, SPEC 5.2
MAX_ROWS = 1_000_000
# The shortest each period can be, to bound a range's period count cheaply.
_SHORTEST = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=28),
    "quarter": timedelta(days=89),
    "year": timedelta(days=365),
}


def execute(
    engine: StorageEngine,
    data_set: str,
    query: Query,
    now: datetime | None = None,
    state: DataSetState | None = None,
) -> list[dict[str, Any]]:
    """The response rows of ``query`` over the data set named ``data_set``;
    its time counts in ``backdrop_query_duration_seconds`` by shape.
    ``state``: the data set's, if the caller read it already (once per
    request); else a grouped query reads it."""
    try:
        with metrics.QUERY_DURATION.labels(shape(query)).time():
            return _execute(engine, data_set, query, now, state)
    except InvalidQuery as error:
        if error.message == INVALID_COLLECT and error.detail is None:
            error.detail = _numeric_collects(query)
        raise


def shape(query: Query) -> str:
    """raw, grouped, period or grouped_period: what kind of work a query is."""
    if query.group_by and query.period is not None:
        return "grouped_period"
    if query.period is not None:
        return "period"
    return "grouped" if query.group_by else "raw"


def _numeric_collects(query: Query) -> str:
    """Which collects need numbers, for the ``detail`` of an engine's
    ``invalid collect function`` (the engines only know that one failed)."""
    keys = [c.key for c in query.collect if c.method in ("sum", "mean")]
    which = keys[0] if len(keys) == 1 else "one of " + ", ".join(keys)
    return (
        f"sum and mean need numbers: {which} met a value that is not a number "
        "(collect it with count or set instead)"
    )


def _execute(
    engine: StorageEngine,
    data_set: str,
    query: Query,
    now: datetime | None,
    state: DataSetState | None,
) -> list[dict[str, Any]]:
    if not query.is_grouped:
        return engine.records.find(data_set, query.where, query.sort_by, query.limit)
    if query.period is None:
        rows = rollups.aggregate(
            engine.records, data_set, query.where, query.group_by, None, query.collect, state
        )
        return shaping.grouped(rows, query)
    where = time_range(engine, data_set, query, now or datetime.now(UTC))
    periods = period_spans(query.period, where)
    rows = rollups.aggregate(
        engine.records, data_set, where, query.group_by, query.period.name, query.collect, state
    )
    if not query.group_by:
        return shaping.period_series(rows, periods, shaping.Collects(query.collect))
    groups = len({shaping.group_key(row, query.group_by) for row in rows})
    if query.limit is not None:
        groups = min(groups, query.limit)
    if groups * len(periods) > MAX_ROWS:
        raise InvalidQuery(
            f"This query would return more than {MAX_ROWS} rows ({groups} groups × "
            f"{len(periods)} periods): narrow the time range, filter or use a longer period"
        )
    nested = shaping.nested(rows, query, periods)
    return shaping.flatten(nested, query) if query.flatten else nested


def period_spans(period: Period, where: Where) -> list[tuple[datetime, datetime]]:
    """(start, end) of every period the range touches; an inclusive end adds
    the period starting at ``end``."""
    assert where.start is not None and where.end is not None
    if (where.end - where.start) / _SHORTEST[period.name] > MAX_PERIODS:
        raise too_many_periods()
    try:
        stop = period.end(where.end) if where.end_inclusive else where.end
        return shaping.spans(period, period.starts(where.start, stop))
    except (OverflowError, ValueError):
        raise out_of_bounds() from None


def time_range(engine: StorageEngine, data_set: str, query: Query, now: datetime) -> Where:
    """The record selection of a period query, with ``duration`` resolved into
    whole periods and slid towards the data (SPEC 5.3)."""
    if query.duration is None:
        return query.where
    if query.duration > MAX_PERIODS:
        raise too_many_periods()
    period = query.period
    assert period is not None
    try:
        if query.start_at is not None:
            start = period.start(query.start_at)
            end = period.shift(start, query.duration)
            start, end = slide_forward(engine, data_set, query, start, end)
        else:
            anchor = query.end_at or now
            # An inclusive end_at keeps the period that contains it.
            end = period.end(anchor) if query.end_at and query.inclusive else period.start(anchor)
            start = period.shift(end, -query.duration)
            start, end = slide_backward(engine, data_set, query, start, end)
    except (OverflowError, ValueError):
        raise out_of_bounds() from None
    return replace(query.where, start=start, end=end, end_inclusive=False)


def slide_forward(
    engine: StorageEngine, data_set: str, query: Query, start: datetime, end: datetime
) -> tuple[datetime, datetime]:
    """Move the range later so that it begins with the first period holding data."""
    assert query.period is not None and query.duration is not None
    where = Where(filters=query.filters, prefixes=query.prefixes, start=start)
    found = nearest_timestamp(engine, data_set, where, query.group_by, backward=False)
    if found is None or query.period.start(found) <= start:
        return start, end
    start = query.period.start(found)
    return start, query.period.shift(start, query.duration)


def slide_backward(
    engine: StorageEngine, data_set: str, query: Query, start: datetime, end: datetime
) -> tuple[datetime, datetime]:
    """Move the range earlier so that it ends with the last period holding data."""
    assert query.period is not None and query.duration is not None
    where = Where(filters=query.filters, prefixes=query.prefixes, end=end)
    found = nearest_timestamp(engine, data_set, where, query.group_by, backward=True)
    if found is None or query.period.end(found) >= end:
        return start, end
    end = query.period.end(found)
    return query.period.shift(end, -query.duration), end


def nearest_timestamp(
    engine: StorageEngine,
    data_set: str,
    where: Where,
    group_by: tuple[str, ...],
    backward: bool,
) -> datetime | None:
    """``_timestamp`` of the first record (last, if ``backward``) that the
    aggregate would count: matching ``where`` and with every group field set.

    Usually one ``find`` with ``limit=1``; records lacking a group field are
    skipped by asking again for a longer prefix of the same sorted list.
    """
    sort = Sort("_timestamp", descending=backward)
    limit = 1
    while True:
        records = engine.records.find(data_set, where, sort, limit)
        for record in records:
            if all(record.get(field) is not None for field in group_by):
                stamp: datetime = record["_timestamp"]
                return stamp
        if len(records) < limit:
            return None
        limit *= 32


def too_many_periods() -> InvalidQuery:
    return InvalidQuery(
        f"A period query can cover at most {MAX_PERIODS} periods: "
        "narrow the time range or use a longer period"
    )


def out_of_bounds() -> InvalidQuery:
    return InvalidQuery("The requested time range goes beyond the supported dates")
