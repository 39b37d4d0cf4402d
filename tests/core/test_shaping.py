"""Engine rows (with partial collects) → response rows, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from backdrop.core import shaping
from backdrop.core.periods import PERIODS
from backdrop.core.query import Collect, Query, Sort

WEEK = PERIODS["week"]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


W1, W2, W3 = utc(2014, 1, 6), utc(2014, 1, 13), utc(2014, 1, 20)
WEEKS = shaping.spans(WEEK, [W1, W2, W3])


def test_grouped_rows_sorted_by_group_fields_with_finished_collects():
    query = Query(
        group_by=("channel",),
        collect=(Collect("value", "sum"), Collect("value", "mean"), Collect("name", legacy=True)),
    )
    rows = [
        {
            "channel": "web",
            "_count": 2,
            "value:sum": 5,
            "value:mean": [5, 2],
            "name:set": ["b", "a"],
        },
        {
            "channel": "phone",
            "_count": 1,
            "value:sum": None,
            "value:mean": [0, 0],
            "name:set": [None],
        },
    ]
    assert shaping.grouped(rows, query) == [
        {
            "channel": "phone",
            "_count": 1,
            "value:sum": None,
            "value:mean": None,
            "name:set": [None],
            "name": [None],
        },
        {
            "channel": "web",
            "_count": 2,
            "value:sum": 5,
            "value:mean": 2.5,
            "name:set": ["a", "b"],
            "name": ["a", "b"],
        },
    ]


def test_grouped_default_order_puts_mixed_types_in_a_fixed_order():
    query = Query(group_by=("key",))
    rows = [{"key": value, "_count": 1} for value in ["b", 10, True, "a", 2.5, False]]
    assert [row["key"] for row in shaping.grouped(rows, query)] == [False, True, 2.5, 10, "a", "b"]


def test_grouped_sort_by_then_limit_keeps_ties_in_group_order():
    query = Query(group_by=("channel",), sort_by=Sort("_count", descending=True), limit=3)
    rows = [
        {"channel": "d", "_count": 1},
        {"channel": "c", "_count": 5},
        {"channel": "b", "_count": 1},
        {"channel": "a", "_count": 1},
    ]
    assert [row["channel"] for row in shaping.grouped(rows, query)] == ["c", "a", "b"]


def test_sort_puts_nulls_first_ascending_and_last_descending():
    rows = [{"v": 2}, {"v": None}, {"v": 1}]
    assert [r["v"] for r in shaping.sort_rows(rows, Sort("v"))] == [None, 1, 2]
    assert [r["v"] for r in shaping.sort_rows(rows, Sort("v", descending=True))] == [2, 1, None]


def test_sort_by_set_values():
    rows = [{"s": ["b"]}, {"s": ["a", "z"]}, {"s": []}]
    assert [r["s"] for r in shaping.sort_rows(rows, Sort("s"))] == [[], ["a", "z"], ["b"]]


def test_period_series_fills_every_period_in_time_order():
    collects = (Collect("value", "sum"), Collect("value", "count"), Collect("tag", legacy=True))
    rows = [
        {"_start_at": W3, "_count": 1, "value:sum": 4, "value:count": 1, "tag:set": ["x"]},
        {"_start_at": W1, "_count": 2, "value:sum": 3, "value:count": 2, "tag:set": ["y", "x"]},
    ]
    assert shaping.period_series(rows, WEEKS, shaping.Collects(collects)) == [
        {
            "_start_at": W1,
            "_end_at": W2,
            "_count": 2,
            "value:sum": 3,
            "value:count": 2,
            "tag:set": ["x", "y"],
            "tag": ["x", "y"],
        },
        {
            "_start_at": W2,
            "_end_at": W3,
            "_count": 0,
            "value:sum": None,
            "value:count": None,
            "tag:set": None,
            "tag": None,
        },
        {
            "_start_at": W3,
            "_end_at": utc(2014, 1, 27),
            "_count": 1,
            "value:sum": 4,
            "value:count": 1,
            "tag:set": ["x"],
            "tag": ["x"],
        },
    ]


def test_month_periods_end_at_the_next_first():
    months = shaping.spans(PERIODS["month"], [utc(2016, 1, 1), utc(2016, 2, 1)])
    series = shaping.period_series([], months, shaping.Collects(()))
    assert series == [
        {"_start_at": utc(2016, 1, 1), "_end_at": utc(2016, 2, 1), "_count": 0},
        {"_start_at": utc(2016, 2, 1), "_end_at": utc(2016, 3, 1), "_count": 0},
    ]


def test_spans_of_no_periods():
    assert shaping.spans(WEEK, []) == []


NESTED_ROWS = [
    {"channel": "web", "_start_at": W1, "_count": 2, "v:sum": 3, "v:mean": [3, 2], "n:set": ["a"]},
    {
        "channel": "web",
        "_start_at": W3,
        "_count": 1,
        "v:sum": 5,
        "v:mean": [5, 1],
        "n:set": ["b", "a"],
    },
    {
        "channel": "app",
        "_start_at": W2,
        "_count": 4,
        "v:sum": None,
        "v:mean": [0, 0],
        "n:set": [None],
    },
]
NESTED_COLLECTS = (Collect("v", "sum"), Collect("v", "mean"), Collect("n", "set"))


def test_nested_groups_merge_partials_across_periods():
    query = Query(period=WEEK, group_by=("channel",), collect=NESTED_COLLECTS)
    groups = shaping.nested(NESTED_ROWS, query, WEEKS)
    assert [g["channel"] for g in groups] == ["app", "web"]
    web = groups[1]
    assert {k: v for k, v in web.items() if k != "values"} == {
        "channel": "web",
        "_count": 3,
        "_group_count": 2,
        "v:sum": 8,
        "v:mean": 8 / 3,  # the mean of all three values, not the mean of period means
        "n:set": ["a", "b"],
    }
    assert [(v["_start_at"], v["_count"], v["v:sum"], v["v:mean"]) for v in web["values"]] == [
        (W1, 2, 3, 1.5),
        (W2, 0, None, None),
        (W3, 1, 5, 5.0),
    ]
    app = groups[0]
    assert app["_count"] == 4 and app["_group_count"] == 1
    assert app["v:sum"] is None and app["v:mean"] is None and app["n:set"] == [None]


def test_nested_sort_and_limit_apply_to_groups():
    query = Query(
        period=WEEK,
        group_by=("channel",),
        collect=NESTED_COLLECTS,
        sort_by=Sort("_count", descending=True),
        limit=1,
    )
    groups = shaping.nested(NESTED_ROWS, query, WEEKS)
    assert [(g["channel"], g["_count"]) for g in groups] == [("app", 4)]
    assert len(groups[0]["values"]) == 3


def test_flatten_gives_a_row_per_group_and_period_including_empty_ones():
    query = Query(period=WEEK, group_by=("channel",), collect=(Collect("v", "sum"),), flatten=True)
    groups = shaping.nested(NESTED_ROWS, query, WEEKS)
    flat = shaping.flatten(groups, query)
    assert [(r["channel"], r["_start_at"], r["_count"], r["v:sum"]) for r in flat] == [
        ("app", W1, 0, None),
        ("app", W2, 4, None),
        ("app", W3, 0, None),
        ("web", W1, 2, 3),
        ("web", W2, 0, None),
        ("web", W3, 1, 5),
    ]
    assert set(flat[0]) == {"channel", "_start_at", "_end_at", "_count", "v:sum"}


def test_nested_with_two_group_fields():
    query = Query(period=WEEK, group_by=("a_b", "c_d"))
    rows = [
        {"a_b": 1, "c_d": "y", "_start_at": W1, "_count": 1},
        {"a_b": 1, "c_d": "x", "_start_at": W1, "_count": 1},
        {"a_b": 1, "c_d": "x", "_start_at": W2, "_count": 2},
    ]
    groups = shaping.nested(rows, query, WEEKS)
    assert [(g["a_b"], g["c_d"], g["_count"], g["_group_count"]) for g in groups] == [
        (1, "x", 3, 2),
        (1, "y", 1, 1),
    ]


def test_true_and_one_are_different_groups():
    query = Query(period=WEEK, group_by=("flag",))
    rows = [
        {"flag": True, "_start_at": W1, "_count": 1},
        {"flag": 1, "_start_at": W1, "_count": 2},
        {"flag": 0, "_start_at": W2, "_count": 4},
        {"flag": False, "_start_at": W2, "_count": 8},
    ]
    groups = shaping.nested(rows, query, WEEKS)
    assert [(g["flag"], g["_count"]) for g in groups] == [(False, 8), (True, 1), (0, 4), (1, 2)]
    assert [type(g["flag"]) for g in groups] == [bool, bool, int, int]
