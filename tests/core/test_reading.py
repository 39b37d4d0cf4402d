"""Queries run end to end through reading.execute on the SQLite engine (SPEC 5.3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from backdrop.core import reading
from backdrop.core.data_sets import Registry
from backdrop.core.query_args import parse_query
from backdrop.core.records import prepare_records
from backdrop.core.storage.sqlite import SQLiteEngine
from backdrop.errors import InvalidQuery

NOW = datetime(2014, 2, 5, 15, 30, tzinfo=UTC)  # a Wednesday


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


class CountingEngine:
    """The real engine, counting the calls reading makes."""

    def __init__(self, engine):
        self.engine = engine
        self.records = self  # reading calls engine.records.find / .aggregate
        self.calls: list[str] = []
        self.state_reads = 0

    def find(self, *args, **kwargs):
        self.calls.append("find")
        return self.engine.records.find(*args, **kwargs)

    def aggregate(self, *args, **kwargs):
        self.calls.append("aggregate")
        return self.engine.records.aggregate(*args, **kwargs)

    def state(self, *args, **kwargs):
        self.state_reads += 1
        return self.engine.records.state(*args, **kwargs)

    def rollup_rows(self, *args, **kwargs):
        self.calls.append("rollup_rows")
        return self.engine.records.rollup_rows(*args, **kwargs)


@pytest.fixture
def store(tmp_path):
    engine = SQLiteEngine(f"sqlite:///{tmp_path}/t.db")
    config, _ = Registry(engine).create({"name": "visits"})

    def seed(records: list[dict[str, Any]]) -> None:
        engine.records.save("visits", prepare_records(records, config, NOW))

    engine.seed = seed
    yield engine
    engine.close()


def run(engine, query_string: dict[str, Any], now: datetime = NOW):
    return reading.execute(engine, "visits", parse_query(query_string), now=now)


def starts(rows):
    return [(row["_start_at"], row["_count"]) for row in rows]


# --- raw queries ---


def test_raw_query_returns_records_without_period_keys_in_time_then_id_order(store):
    store.seed(
        [
            {"_id": "b", "_timestamp": "2014-01-02T00:00:00Z", "channel": "web"},
            {"_id": "a", "_timestamp": "2014-01-02T00:00:00Z", "channel": "app"},
            {"_id": "c", "_timestamp": "2014-01-01T00:00:00Z", "channel": "web"},
        ]
    )
    rows = run(store, {})
    assert [row["_id"] for row in rows] == ["c", "a", "b"]
    assert rows[0] == {
        "_id": "c",
        "_timestamp": utc(2014, 1, 1),
        "_updated_at": NOW,
        "channel": "web",
    }


def test_raw_query_filters_sorts_and_limits(store):
    store.seed(
        [
            {"_id": "1", "_timestamp": "2014-01-01T00:00:00Z", "channel": "web", "count": 5},
            {"_id": "2", "_timestamp": "2014-01-02T00:00:00Z", "channel": "web", "count": 9},
            {"_id": "3", "_timestamp": "2014-01-03T00:00:00Z", "channel": "app", "count": 7},
            {"_id": "4", "_timestamp": "2014-01-04T00:00:00Z", "channel": "web", "count": 1},
        ]
    )
    rows = run(store, {"filter_by": "channel:web", "sort_by": "count:descending", "limit": "2"})
    assert [row["_id"] for row in rows] == ["2", "1"]
    rows = run(store, {"start_at": "2014-01-02T00:00:00Z", "end_at": "2014-01-04T00:00:00Z"})
    assert [row["_id"] for row in rows] == ["2", "3"]
    rows = run(
        store,
        {"start_at": "2014-01-02T00:00:00Z", "end_at": "2014-01-04T00:00:00Z", "inclusive": "true"},
    )
    assert [row["_id"] for row in rows] == ["2", "3", "4"]


# --- group_by ---


def test_group_by_counts_and_collects_leaving_out_missing_groups(store):
    store.seed(
        [
            {"channel": "web", "count": 2, "name": "x"},
            {"channel": "web", "count": 3, "name": "y"},
            {"channel": "app", "count": 4, "name": "x"},
            {"channel": None, "count": 100},
            {"count": 100},
        ]
    )
    rows = run(store, {"group_by": "channel", "collect": ["count:sum", "count:mean", "name"]})
    assert rows == [
        {
            "channel": "app",
            "_count": 1,
            "count:sum": 4,
            "count:mean": 4.0,
            "name:set": ["x"],
            "name": ["x"],
        },
        {
            "channel": "web",
            "_count": 2,
            "count:sum": 5,
            "count:mean": 2.5,
            "name:set": ["x", "y"],
            "name": ["x", "y"],
        },
    ]


def test_group_by_sort_by_collect_and_limit(store):
    store.seed(
        [
            {"channel": "a_c", "count": 1},
            {"channel": "b_c", "count": 5},
            {"channel": "c_c", "count": 3},
        ]
    )
    rows = run(
        store, {"group_by": "channel", "collect": "count:sum", "sort_by": "count:sum:descending"}
    )
    assert [row["channel"] for row in rows] == ["b_c", "c_c", "a_c"]
    rows = run(store, {"group_by": "channel", "limit": "2"})
    assert [row["channel"] for row in rows] == ["a_c", "b_c"]


def test_sum_over_text_is_an_invalid_collect(store):
    store.seed([{"channel": "web", "count": "lots"}])
    with pytest.raises(InvalidQuery, match="^invalid collect function$"):
        run(store, {"group_by": "channel", "collect": "count:sum"})


# --- period only ---


def test_period_query_lists_every_period_including_empty_ones(store):
    store.seed(
        [
            {"_timestamp": "2014-01-06T10:00:00Z", "count": 2},
            {"_timestamp": "2014-01-07T10:00:00Z", "count": 3},
            {"_timestamp": "2014-01-21T10:00:00Z", "count": 4},
            {"_timestamp": "2014-01-28T10:00:00Z", "count": 50},  # outside the range
        ]
    )
    rows = run(
        store,
        {
            "period": "week",
            "start_at": "2014-01-06T00:00:00Z",
            "end_at": "2014-01-27T00:00:00Z",
            "collect": "count:sum",
        },
    )
    assert rows == [
        {"_start_at": utc(2014, 1, 6), "_end_at": utc(2014, 1, 13), "_count": 2, "count:sum": 5},
        {
            "_start_at": utc(2014, 1, 13),
            "_end_at": utc(2014, 1, 20),
            "_count": 0,
            "count:sum": None,
        },
        {"_start_at": utc(2014, 1, 20), "_end_at": utc(2014, 1, 27), "_count": 1, "count:sum": 4},
    ]


def test_inclusive_end_adds_the_period_starting_at_end_at(store):
    store.seed([{"_timestamp": "2014-02-01T00:00:00Z"}, {"_timestamp": "2014-02-01T00:00:01Z"}])
    query = {
        "period": "month",
        "start_at": "2014-01-01T00:00:00Z",
        "end_at": "2014-02-01T00:00:00Z",
    }
    assert starts(run(store, query)) == [(utc(2014, 1, 1), 0)]
    assert starts(run(store, {**query, "inclusive": "true"})) == [
        (utc(2014, 1, 1), 0),
        (utc(2014, 2, 1), 1),  # only the record at end_at itself
    ]


def test_quarter_periods(store):
    store.seed([{"_timestamp": "2014-05-01T00:00:00Z"}, {"_timestamp": "2014-12-31T23:59:59Z"}])
    rows = run(
        store,
        {"period": "quarter", "start_at": "2014-01-01T00:00:00Z", "end_at": "2015-01-01T00:00:00Z"},
    )
    assert starts(rows) == [
        (utc(2014, 1, 1), 0),
        (utc(2014, 4, 1), 1),
        (utc(2014, 7, 1), 0),
        (utc(2014, 10, 1), 1),
    ]


# --- nested and flat ---


NESTED = [
    {"_timestamp": "2014-01-06T10:00:00Z", "channel": "web", "count": 1},
    {"_timestamp": "2014-01-07T10:00:00Z", "channel": "web", "count": 2},
    {"_timestamp": "2014-01-20T10:00:00Z", "channel": "web", "count": 4},
    {"_timestamp": "2014-01-14T10:00:00Z", "channel": "app", "count": 8},
    {"_timestamp": "2014-01-14T11:00:00Z", "count": 16},
]
THREE_WEEKS = {"start_at": "2014-01-06T00:00:00Z", "end_at": "2014-01-27T00:00:00Z"}


def test_nested_groups_carry_totals_over_the_whole_group_and_every_period(store):
    store.seed(NESTED)
    rows = run(
        store,
        {
            "period": "week",
            "group_by": "channel",
            "collect": ["count:sum", "count:mean"],
            **THREE_WEEKS,
        },
    )
    assert [row["channel"] for row in rows] == ["app", "web"]
    web = rows[1]
    assert (web["_count"], web["_group_count"], web["count:sum"]) == (3, 2, 7)
    assert web["count:mean"] == pytest.approx(7 / 3)
    assert [(v["_start_at"], v["_count"], v["count:sum"]) for v in web["values"]] == [
        (utc(2014, 1, 6), 2, 3),
        (utc(2014, 1, 13), 0, None),
        (utc(2014, 1, 20), 1, 4),
    ]


def test_nested_sort_by_and_limit_apply_to_groups(store):
    store.seed(NESTED)
    rows = run(
        store,
        {
            "period": "week",
            "group_by": "channel",
            "collect": "count:sum",
            "sort_by": "count:sum:descending",
            "limit": "1",
            **THREE_WEEKS,
        },
    )
    assert [(row["channel"], row["count:sum"]) for row in rows] == [("app", 8)]


def test_flatten(store):
    store.seed(NESTED)
    rows = run(store, {"period": "week", "group_by": "channel", "flatten": "true", **THREE_WEEKS})
    assert [(row["channel"], row["_start_at"], row["_count"]) for row in rows] == [
        ("app", utc(2014, 1, 6), 0),
        ("app", utc(2014, 1, 13), 1),
        ("app", utc(2014, 1, 20), 0),
        ("web", utc(2014, 1, 6), 2),
        ("web", utc(2014, 1, 13), 0),
        ("web", utc(2014, 1, 20), 1),
    ]


# --- duration and the sliding rule ---


def test_duration_forward_from_the_period_containing_start_at(store):
    store.seed([{"_timestamp": "2014-01-01T10:00:00Z"}, {"_timestamp": "2014-01-09T10:00:00Z"}])
    rows = run(store, {"period": "week", "duration": "2", "start_at": "2014-01-01T12:00:00Z"})
    # 2014-01-01 is a Wednesday: its week starts Monday 2013-12-30
    assert starts(rows) == [(utc(2013, 12, 30), 1), (utc(2014, 1, 6), 1)]


def test_duration_backward_from_the_period_containing_end_at(store):
    store.seed(
        [
            {"_timestamp": "2014-01-10T10:00:00Z"},
            {"_timestamp": "2014-01-11T10:00:00Z"},
            {"_timestamp": "2014-01-12T10:00:00Z"},
        ]
    )
    rows = run(store, {"period": "day", "duration": "3", "end_at": "2014-01-12T18:00:00Z"})
    # the day containing end_at is not part of the range
    assert starts(rows) == [(utc(2014, 1, 9), 0), (utc(2014, 1, 10), 1), (utc(2014, 1, 11), 1)]


def test_duration_backward_inclusive_keeps_the_period_of_end_at(store):
    store.seed([{"_timestamp": "2014-01-12T10:00:00Z"}])
    rows = run(
        store,
        {"period": "day", "duration": "2", "end_at": "2014-01-12T18:00:00Z", "inclusive": "true"},
    )
    assert starts(rows) == [(utc(2014, 1, 11), 0), (utc(2014, 1, 12), 1)]


def test_duration_from_now_covers_the_periods_before_the_current_one(store):
    store.seed([{"_timestamp": "2014-01-30T10:00:00Z"}, {"_timestamp": "2014-02-05T10:00:00Z"}])
    rows = run(store, {"period": "week", "duration": "2"})
    # NOW is Wednesday 2014-02-05: the range is the two weeks before its week
    assert starts(rows) == [(utc(2014, 1, 20), 0), (utc(2014, 1, 27), 1)]


def test_forward_range_with_empty_leading_periods_slides_to_start_with_data(store):
    store.seed([{"_timestamp": "2014-01-15T10:00:00Z"}, {"_timestamp": "2014-01-30T10:00:00Z"}])
    rows = run(store, {"period": "week", "duration": "3", "start_at": "2014-01-01T00:00:00Z"})
    assert starts(rows) == [(utc(2014, 1, 13), 1), (utc(2014, 1, 20), 0), (utc(2014, 1, 27), 1)]


def test_backward_range_with_empty_trailing_periods_slides_to_end_with_data(store):
    store.seed([{"_timestamp": "2013-11-15T10:00:00Z"}, {"_timestamp": "2013-12-02T10:00:00Z"}])
    rows = run(store, {"period": "month", "duration": "2"})
    assert starts(rows) == [(utc(2013, 11, 1), 1), (utc(2013, 12, 1), 1)]


def test_an_entirely_empty_range_slides_to_the_nearest_data(store):
    store.seed([{"_timestamp": "2013-06-15T10:00:00Z"}])
    rows = run(store, {"period": "day", "duration": "2", "end_at": "2014-01-01T00:00:00Z"})
    assert starts(rows) == [(utc(2013, 6, 14), 0), (utc(2013, 6, 15), 1)]


def test_no_data_in_the_direction_means_no_slide(store):
    store.seed([{"_timestamp": "2014-01-01T10:00:00Z"}])
    rows = run(store, {"period": "day", "duration": "2", "start_at": "2014-02-01T00:00:00Z"})
    assert starts(rows) == [(utc(2014, 2, 1), 0), (utc(2014, 2, 2), 0)]


def test_the_slide_respects_filters(store):
    store.seed(
        [
            {"_timestamp": "2014-02-03T10:00:00Z", "channel": "app"},
            {"_timestamp": "2014-01-20T10:00:00Z", "channel": "web"},
        ]
    )
    rows = run(store, {"period": "week", "duration": "1", "filter_by": "channel:web"})
    assert starts(rows) == [(utc(2014, 1, 20), 1)]


def test_nested_slide_is_the_smallest_over_all_groups(store):
    store.seed(
        [
            {"_timestamp": "2014-01-13T10:00:00Z", "channel": "web"},
            {"_timestamp": "2014-01-20T10:00:00Z", "channel": "app"},
            # newer, but without the group field: the aggregate leaves it out
            {"_timestamp": "2014-01-28T10:00:00Z"},
        ]
    )
    rows = run(store, {"period": "week", "duration": "2", "group_by": "channel"})
    assert [(row["channel"], starts(row["values"])) for row in rows] == [
        ("app", [(utc(2014, 1, 13), 0), (utc(2014, 1, 20), 1)]),
        ("web", [(utc(2014, 1, 13), 1), (utc(2014, 1, 20), 0)]),
    ]


def test_sliding_costs_one_find_and_one_aggregate(store):
    store.seed([{"_timestamp": "2013-12-02T10:00:00Z", "channel": "web"}])
    counting = CountingEngine(store)
    rows = run(counting, {"period": "week", "duration": "2", "group_by": "channel"})
    assert counting.calls == ["find", "aggregate"]
    assert starts(rows[0]["values"]) == [(utc(2013, 11, 25), 0), (utc(2013, 12, 2), 1)]


def test_explicit_ranges_never_slide(store):
    store.seed([{"_timestamp": "2014-01-30T10:00:00Z"}])
    counting = CountingEngine(store)
    rows = run(
        counting,
        {"period": "day", "start_at": "2014-01-01T00:00:00Z", "end_at": "2014-01-03T00:00:00Z"},
    )
    assert counting.calls == ["aggregate"]
    assert starts(rows) == [(utc(2014, 1, 1), 0), (utc(2014, 1, 2), 0)]


# --- limits of what a query may ask ---


def test_too_many_periods_is_refused_before_touching_the_database(store):
    with pytest.raises(InvalidQuery, match="at most 100000 periods"):
        run(
            store,
            {
                "period": "hour",
                "start_at": "2000-01-01T00:00:00Z",
                "end_at": "2020-01-01T00:00:00Z",
            },
        )
    with pytest.raises(InvalidQuery, match="at most 100000 periods"):
        run(store, {"period": "day", "duration": "100001"})


def test_ranges_past_the_last_representable_date_are_a_bad_request(store):
    with pytest.raises(InvalidQuery, match="beyond the supported dates"):
        run(store, {"period": "year", "duration": "2", "start_at": "9999-06-01T00:00:00Z"})
    with pytest.raises(InvalidQuery, match="beyond the supported dates"):
        run(
            store,
            {
                "period": "year",
                "start_at": "9999-01-01T00:00:00Z",
                "end_at": "9999-12-31T12:00:00Z",
            },
        )


def test_slide_skips_records_the_aggregate_would_leave_out(store):
    store.seed(
        [{"_timestamp": "2013-10-01T10:00:00Z", "channel": "web"}]
        + [{"_timestamp": f"2013-11-{day:02d}T10:00:00Z"} for day in range(1, 29)]
        + [{"_timestamp": f"2013-12-{day:02d}T10:00:00Z", "channel": None} for day in range(1, 29)]
    )
    counting = CountingEngine(store)
    rows = run(counting, {"period": "month", "duration": "1", "group_by": "channel"})
    assert counting.calls == ["find", "find", "find", "aggregate"]
    assert [(row["channel"], starts(row["values"])) for row in rows] == [
        ("web", [(utc(2013, 10, 1), 1)])
    ]


def test_too_many_rows_is_refused_and_limit_counts(store, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 5)
    store.seed([{"_timestamp": "2014-01-06T10:00:00Z", "channel": name} for name in ("ab", "cd")])
    query = {"period": "week", "group_by": "channel", **THREE_WEEKS}
    with pytest.raises(InvalidQuery, match=r"more than 5 rows \(2 groups × 3 periods\)"):
        run(store, query)
    assert len(run(store, {**query, "limit": "1"})) == 1


# --- rollups ---

WEEKLY_SUM = {"period": "week", "group_by": "channel", "collect": "count:sum",
              "start_at": "2014-01-06T00:00:00Z", "end_at": "2014-02-03T00:00:00Z"}  # fmt: skip
VISITS = [
    {"_timestamp": f"2014-01-{day:02d}T{hour:02d}:00:00Z", "channel": channel, "count": day}
    for day in range(1, 32)
    for hour, channel in ((9, "web"), (15, "app"), (20, "web"))
]


@pytest.fixture
def rolled_up(store):
    """The store's ``visits`` with a built rollup on channel and count."""
    store.seed(VISITS)
    before = run(store, WEEKLY_SUM)
    Registry(store).update("visits", {"dimensions": ["channel"], "measures": ["count"]})
    store.before = before
    return store


def test_a_covered_query_is_answered_from_the_rollup_with_the_same_rows(rolled_up):
    counting = CountingEngine(rolled_up)
    assert run(counting, WEEKLY_SUM) == rolled_up.before
    assert counting.calls == ["rollup_rows"] and counting.state_reads == 1


def test_a_query_the_rollup_does_not_cover_reads_the_records(rolled_up):
    counting = CountingEngine(rolled_up)
    run(counting, {**WEEKLY_SUM, "period": "hour"})
    assert counting.calls == ["aggregate"]


def test_a_state_read_by_the_caller_is_used_not_read_again(rolled_up):
    counting = CountingEngine(rolled_up)
    state = rolled_up.records.state("visits")
    rows = reading.execute(counting, "visits", parse_query(WEEKLY_SUM), now=NOW, state=state)
    assert rows == rolled_up.before and counting.calls == ["rollup_rows"]
    assert counting.state_reads == 0
    unbuilt = replace(state, ready=False)  # as read before the build finished
    reading.execute(counting, "visits", parse_query(WEEKLY_SUM), now=NOW, state=unbuilt)
    assert counting.calls == ["rollup_rows", "aggregate"]


def test_the_slide_of_a_duration_still_finds_the_nearest_record(rolled_up):
    counting = CountingEngine(rolled_up)
    query = {"period": "week", "duration": "2", "group_by": "channel", "collect": "count:sum"}
    rows = run(counting, {**query, "start_at": "2013-12-02T00:00:00Z"})
    assert counting.calls == ["find", "rollup_rows"]
    assert [row["_start_at"] for row in rows[0]["values"]] == [utc(2013, 12, 30), utc(2014, 1, 6)]
