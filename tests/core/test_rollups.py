"""The engine-neutral half of rollups: which queries a rollup answers, and
how counters become the rows an engine's ``aggregate`` returns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backdrop.core import rollups
from backdrop.core.periods import period_keys
from backdrop.core.query import Collect, Filter, PrefixFilter, Where
from backdrop.core.rollups import ALL_TIME, RollupSpec, covering_group, deltas, finish
from backdrop.errors import InvalidQuery

SPEC = rollups.spec_from_config(["channel", "region", ["department", "page"]], ["volume"], None)
DAY = datetime(2025, 1, 6, tzinfo=UTC)
SUM = (Collect("volume", "sum"),)


def test_the_spec_has_the_total_first_and_each_dimension_entry_as_a_group() -> None:
    assert SPEC == RollupSpec(
        groups=((), ("channel",), ("region",), ("department", "page")),
        measures=("volume",),
        grain="day",
    )
    assert RollupSpec.from_document(SPEC.document()) == SPEC
    assert rollups.spec_from_config(None, None, "day") is None


@pytest.mark.parametrize(
    ("where", "group_by", "period", "collects", "group"),
    [
        (Where(), (), "week", SUM, 0),
        (Where(), ("channel",), None, SUM, 1),
        (Where(filters=(Filter("region", "north"),)), ("region",), "month", (), 2),
        (Where(prefixes=(PrefixFilter("page", "/a"),)), ("department",), None, (), 3),
        (Where(start=DAY, end=DAY.replace(day=13)), ("page",), "day", (), 3),
    ],
)
def test_the_smallest_group_with_every_field_of_the_query_answers_it(
    where: Where, group_by: tuple[str, ...], period: str | None, collects: tuple, group: int
) -> None:
    assert covering_group(SPEC, where, group_by, period, collects) == group


@pytest.mark.parametrize(
    ("where", "group_by", "period", "collects"),
    [
        (Where(), ("channel", "region"), None, ()),  # no group holds both
        (Where(filters=(Filter("service", "x"),)), (), None, ()),  # not a dimension
        (Where(), (), "hour", ()),  # finer than the grain
        (Where(start=DAY.replace(hour=3)), (), None, ()),  # not aligned to the grain
        (Where(end=DAY, end_inclusive=True), (), None, ()),  # records at the end instant
        (Where(), (), None, (Collect("duration", "sum"),)),  # not a measure
        (Where(), (), None, (Collect("volume", "set"),)),  # no set from counters
        (Where(), (), None, (Collect("volume", "set", legacy=True),)),
    ],
)
def test_queries_a_rollup_cannot_answer_exactly_are_left_to_the_records(
    where: Where, group_by: tuple[str, ...], period: str | None, collects: tuple
) -> None:
    assert covering_group(SPEC, where, group_by, period, collects) is None


def _record(**fields: object) -> dict[str, object]:
    return {**period_keys(DAY), "_timestamp": DAY, **fields}


def test_deltas_count_each_record_in_its_day_and_in_all_time_per_group() -> None:
    spec = rollups.spec_from_config(["channel"], ["volume"], "day")
    assert spec is not None
    changes = deltas(spec, [_record(channel="web", volume=2), {"channel": "web", "volume": 1.5}])
    names = spec.counter_names()
    web_all = dict(zip(names, changes[(1, ALL_TIME, ("web",))], strict=True))
    assert web_all == {
        "_count": 2,
        "volume:present": 2,
        "volume:n": 2,
        "volume:isum": 2,
        "volume:fsum": 1.5,
        "volume:floats": 1,
        "volume:bad": 0,
    }
    # The record without _timestamp is only in the all-time bucket.
    assert changes[(1, DAY, ("web",))][0] == 1
    assert changes[(0, DAY, ())][0] == 1


def test_removing_records_undoes_adding_them() -> None:
    spec = rollups.spec_from_config(["channel"], ["volume"], "day")
    assert spec is not None
    batch = [_record(channel=True, volume="x"), _record(channel=1, volume=None)]
    added, removed = deltas(spec, batch), deltas(spec, batch, sign=-1)
    assert added.keys() == removed.keys()
    assert all(a == [-r for r in removed[key]] for key, a in added.items())
    # True and 1 are different dimension values.
    assert (1, ALL_TIME, (("bool", True),)) in added and (1, ALL_TIME, (1,)) in added


def _summed(**counters: float) -> dict[str, float]:
    base = {f"volume:{name}": 0 for name in rollups.MEASURE_COUNTERS}
    return {"channel": "web", **base, **counters}


def test_finish_gives_the_partials_the_records_would() -> None:
    rows = [
        _summed(_count=3, **{"volume:present": 3, "volume:n": 2, "volume:isum": 5}),
        {**_summed(_count=1), "channel": None},  # left out when grouped by channel
    ]
    collects = (Collect("volume", "sum"), Collect("volume", "mean"), Collect("volume", "count"))
    assert finish(rows, ("channel",), None, collects) == [
        {"channel": "web", "_count": 3, "volume:sum": 5, "volume:mean": [5, 2], "volume:count": 3}
    ]


def test_a_float_among_the_values_makes_the_sum_a_float_and_no_number_makes_it_null() -> None:
    floats = _summed(
        _count=2, **{"volume:n": 2, "volume:isum": 1, "volume:fsum": 0.5, "volume:floats": 1}
    )
    nulls = _summed(_count=2, **{"volume:present": 2})
    assert finish([floats], (), None, SUM)[0]["volume:sum"] == 1.5
    assert finish([nulls], (), None, SUM)[0]["volume:sum"] is None
    assert finish([nulls], (), None, (Collect("volume", "mean"),))[0]["volume:mean"] == [0, 0]


def test_a_value_that_is_not_a_number_fails_a_sum_as_the_records_would() -> None:
    bad = _summed(_count=1, **{"volume:present": 1, "volume:bad": 1})
    with pytest.raises(InvalidQuery, match="invalid collect function"):
        finish([bad], (), None, SUM)
    assert finish([bad], (), None, (Collect("volume", "count"),))[0]["volume:count"] == 1


class _Store:
    """Records the calls the router makes."""

    def __init__(self, state: rollups.DataSetState) -> None:
        self.calls: list[str] = []
        self._state = state

    def state(self, data_set: str) -> rollups.DataSetState:
        return self._state

    def rollup_rows(self, data_set, group, where, group_by, period):
        self.calls.append(f"rollup {group}")
        return [_summed(_count=1, **{"volume:n": 1, "volume:isum": 4})]

    def aggregate(self, data_set, where, group_by, period, collects):
        self.calls.append("records")
        return []


@pytest.mark.parametrize(
    ("state", "calls"),
    [
        (rollups.DataSetState(1, SPEC, ready=True), ["rollup 1"]),
        (rollups.DataSetState(1, SPEC, ready=False), ["records"]),  # still building
        (rollups.DataSetState(1, None, ready=False), ["records"]),
    ],
)
def test_the_router_reads_a_rollup_only_once_it_is_built(
    state: rollups.DataSetState, calls: list[str]
) -> None:
    store = _Store(state)
    rollups.aggregate(store, "d", Where(), ("channel",), None, SUM)
    assert store.calls == calls
