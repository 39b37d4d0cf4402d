"""Incremental rollups: partial aggregates kept beside a data set's records.

A data set's config may declare ``dimensions`` (fields to group and filter
by) and ``measures`` (numeric fields to sum, count or average). Each entry of
``dimensions`` is a field or a list of fields kept together; every entry is
one *rollup group* (plus the total, the group of no fields, always first).
For every group the engine keeps one row per (bucket, values of the group's
fields), where the bucket is the start of the record's ``grain`` period
(``day`` or ``hour``) and, separately, ``ALL_TIME`` for every record
(including those without ``_timestamp``). Each row holds ``COUNTERS``.

The engine updates the rows in the same transaction as every write (save,
replace, delete, empty, capping), so they are never stale, and bumps the data
set's ``version`` there too (``backdrop.core.result_cache`` keys on it).

This module is engine-neutral: the spec, which queries a rollup covers
(``covering_group``), how counter sums become the engine ``aggregate`` rows
(``finish``), the router the query layer calls (``aggregate``), and
``deltas``, the counting of records into counters in Python
(MongoDB uses it; the SQL engines compute the same in SQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from backdrop.core.periods import PERIODS
from backdrop.core.query import Collect, Where
from backdrop.errors import InvalidQuery

GRAINS = ("hour", "day")
MEASURE_COUNTERS = ("present", "n", "isum", "fsum", "floats", "bad")
"""Per measure: records where the field is present (explicit null included),
numeric values (not booleans), the sum of the integers, the sum of the floats,
how many floats, and values that are neither numbers nor null (booleans too)."""
_MEASURE_WIDTH = len(MEASURE_COUNTERS)
ROLLUP_METHODS = ("sum", "count", "mean")
_PERIOD_ORDER = tuple(PERIODS)  # hour, day, week, month, quarter, year


class AllTime:
    """The bucket of every record, whatever its ``_timestamp``."""

    def __repr__(self) -> str:
        return "ALL_TIME"


ALL_TIME = AllTime()
Bucket = datetime | AllTime
Deltas = dict[tuple[int, Bucket, tuple[Any, ...]], list[int | float]]


@dataclass(frozen=True)
class RollupSpec:
    """What a data set rolls up. ``groups[0]`` is always ``()``, the total."""

    groups: tuple[tuple[str, ...], ...]
    measures: tuple[str, ...]
    grain: str = "day"

    def document(self) -> dict[str, Any]:
        return {
            "groups": [list(group) for group in self.groups],
            "measures": list(self.measures),
            "grain": self.grain,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> RollupSpec:
        return cls(
            groups=tuple(tuple(group) for group in document["groups"]),
            measures=tuple(document["measures"]),
            grain=document["grain"],
        )

    def counter_names(self) -> tuple[str, ...]:
        """``_count`` then ``<measure>:<counter>`` for every measure."""
        return ("_count", *(f"{m}:{c}" for m in self.measures for c in MEASURE_COUNTERS))


def spec_from_config(
    dimensions: list[str | list[str]] | None, measures: list[str] | None, grain: str | None
) -> RollupSpec | None:
    """The rollup a (validated) data-set config declares, or None if it has no
    dimensions and no measures."""
    if not dimensions and not measures:
        return None
    groups: list[tuple[str, ...]] = [()]
    for entry in dimensions or []:
        group = (entry,) if isinstance(entry, str) else tuple(entry)
        if group not in groups:
            groups.append(group)
    return RollupSpec(tuple(groups), tuple(measures or ()), grain or "day")


@dataclass(frozen=True)
class DataSetState:
    """What the engine keeps per data set beside its records: ``version``
    (+1 in every write transaction; never reused, even across drop and
    create), the rollup it maintains, and whether that rollup is built."""

    version: int = 0
    rollup: RollupSpec | None = None
    ready: bool = False


def _aligned(moment: datetime | None, grain: str) -> bool:
    return moment is None or PERIODS[grain].start(moment) == moment


def covering_group(
    spec: RollupSpec,
    where: Where,
    group_by: tuple[str, ...],
    period: str | None,
    collects: tuple[Collect, ...],
) -> int | None:
    """Index in ``spec.groups`` of the smallest group answering the query
    exactly, or None when only the records can."""
    if any(
        c.legacy or c.method not in ROLLUP_METHODS or c.field not in spec.measures for c in collects
    ):
        return None
    if period is not None and _PERIOD_ORDER.index(period) < _PERIOD_ORDER.index(spec.grain):
        return None
    if where.end_inclusive and where.end is not None:
        return None
    if not (_aligned(where.start, spec.grain) and _aligned(where.end, spec.grain)):
        return None
    fields = {*group_by, *(f.field for f in where.filters), *(p.field for p in where.prefixes)}
    candidates = [i for i, group in enumerate(spec.groups) if fields <= set(group)]
    return min(candidates, key=lambda i: len(spec.groups[i])) if candidates else None


def uses_all_time(where: Where, period: str | None) -> bool:
    """Whether a covered query reads the ``ALL_TIME`` rows (no period, no time
    bounds) rather than the grain rows."""
    return period is None and where.start is None and where.end is None


def _measure_partials(row: Mapping[str, Any], collect: Collect) -> tuple[Any, bool]:
    """The engine partial of one collect from summed counters, and whether a
    sum or mean met a value that is not a number."""
    m = collect.field
    if collect.method == "count":
        return row[f"{m}:present"], False
    n, isum, fsum, floats = (row[f"{m}:{c}"] for c in ("n", "isum", "fsum", "floats"))
    total: int | float = float(isum) + fsum if floats else isum
    bad = bool(row[f"{m}:bad"])
    if collect.method == "sum":
        return (total if n else None), bad
    return [total if n else 0, n], bad


def finish(
    rows: Iterable[Mapping[str, Any]],
    group_by: tuple[str, ...],
    period: str | None,
    collects: tuple[Collect, ...],
) -> list[dict[str, Any]]:
    """``RecordStore.aggregate`` rows from summed counter rows.

    Each input row has the group fields' values (None rows are dropped when
    grouped by that field), ``_start_at`` with a period, and every counter
    summed over the buckets and values it merges. Raises the engines'
    ``invalid collect function`` as the records would."""
    results = []
    invalid = False
    for row in rows:
        if not row["_count"] or any(row[field] is None for field in group_by):
            continue
        result: dict[str, Any] = {field: row[field] for field in group_by}
        if period is not None:
            result["_start_at"] = row["_start_at"]
        result["_count"] = row["_count"]
        for collect in collects:
            result[collect.key], bad = _measure_partials(row, collect)
            invalid = invalid or (bad and collect.method != "count")
        results.append(result)
    if invalid:
        raise InvalidQuery("invalid collect function")
    return results


def dimension_key(value: Any) -> Any:
    """A dimension value as a hashable key that keeps ``True`` apart from
    ``1``: scalars as they are, booleans as ``("bool", b)``, lists and
    objects as ``("json", text)``. ``dimension_value`` inverts it."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, list | dict):
        return ("json", orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())
    return value


def dimension_value(key: Any) -> Any:
    if isinstance(key, tuple):
        return key[1] if key[0] == "bool" else orjson.loads(key[1])
    return key


def deltas(spec: RollupSpec, records: Iterable[Mapping[str, Any]], sign: int = 1) -> Deltas:
    """Counter changes from adding (``sign=1``) or removing (``-1``) prepared
    records: ``(group index, bucket, group values) → counters`` in the order
    of ``spec.counter_names()``. Group values are ``dimension_key`` of the
    records' values (None when missing or null). Records are first summed
    per (grain bucket, values of every dimension field), and only those sums
    are spread over the groups and the ALL_TIME bucket (six times faster than
    per record and group). What the SQL engines compute in SQL; MongoDB's
    writes use it."""
    grain_key = PERIODS[spec.grain].key
    fields = sorted({field for group in spec.groups for field in group})
    position = {field: i for i, field in enumerate(fields)}
    width = 1 + len(spec.measures) * _MEASURE_WIDTH
    fine: dict[tuple[Any, ...], list[Any]] = {}
    key_of = dimension_key
    for record in records:
        get = record.get
        key = (get(grain_key), *[key_of(get(field)) for field in fields])
        into = fine.get(key)
        if into is None:
            into = fine[key] = [0] * width
        into[0] += sign
        for index, measure in enumerate(spec.measures):
            if measure in record:
                _count_value(into, 1 + index * _MEASURE_WIDTH, record[measure], sign)
    return _spread(spec, fine, [tuple(position[f] for f in group) for group in spec.groups])


def _count_value(into: list[Any], at: int, value: Any, sign: int) -> None:
    """One present measure value into counters ``present, n, isum, fsum, floats, bad``
    starting at ``into[at]``, as ``MEASURE_COUNTERS`` defines them."""
    into[at] += sign
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        into[at + 5] += sign
    elif isinstance(value, int):
        into[at + 1] += sign
        into[at + 2] += sign * value
    else:
        into[at + 1] += sign
        into[at + 3] += sign * value
        into[at + 4] += sign


def _spread(
    spec: RollupSpec, fine: dict[tuple[Any, ...], list[Any]], picks: list[tuple[int, ...]]
) -> Deltas:
    out: Deltas = {}
    for key, counters in fine.items():
        values = key[1:]
        buckets: list[Bucket] = [ALL_TIME] if key[0] is None else [ALL_TIME, key[0]]
        for group, pick in enumerate(picks):
            group_values = tuple(values[i] for i in pick)
            for bucket in buckets:
                into = out.get((group, bucket, group_values))
                if into is None:
                    out[(group, bucket, group_values)] = list(counters)
                else:
                    for i, value in enumerate(counters):
                        into[i] += value
    return out


class RollupReader(Protocol):
    """The part of a ``RecordStore`` that ``aggregate`` below uses."""

    def state(self, data_set: str) -> DataSetState: ...

    def rollup_rows(
        self,
        data_set: str,
        group: int,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
    ) -> list[dict[str, Any]]: ...

    def aggregate(
        self,
        data_set: str,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
        collects: tuple[Collect, ...],
    ) -> list[dict[str, Any]]: ...


def aggregate(
    store: RollupReader,
    data_set: str,
    where: Where,
    group_by: tuple[str, ...],
    period: str | None,
    collects: tuple[Collect, ...],
    state: DataSetState | None = None,
) -> list[dict[str, Any]]:
    """``store.aggregate`` with the same answer, from the rollup when it is
    built and covers the query, else from the records."""
    state = store.state(data_set) if state is None else state
    if state.rollup is not None and state.ready:
        group = covering_group(state.rollup, where, group_by, period, collects)
        if group is not None:
            rows = store.rollup_rows(data_set, group, where, group_by, period)
            return finish(rows, group_by, period, collects)
    return store.aggregate(data_set, where, group_by, period, collects)
