"""Result rows → chart series, for every shape a query can return."""

from __future__ import annotations

from datetime import UTC, datetime

from backdrop.admin import charts
from backdrop.core.query_args import parse_query

JAN1, JAN8 = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 8, tzinfo=UTC)
RANGE = {"start_at": "2024-01-01T00:00:00Z", "end_at": "2024-01-15T00:00:00Z"}


def test_a_period_query_is_one_series_of_the_first_numeric_collect():
    query = parse_query({"period": "week", "collect": ["kind:set", "value:mean"], **RANGE})
    rows = [
        {"_start_at": JAN1, "_count": 2, "value:mean": 1.5},
        {"_start_at": JAN8, "_count": 0, "value:mean": None},
    ]
    chart = charts.chart(query, rows)
    assert chart["value"] == "value:mean"
    assert chart["x"] == [JAN1.timestamp(), JAN8.timestamp()]
    assert chart["series"] == [{"label": "value:mean", "values": [1.5, None]}]


def test_flattened_rows_are_grouped_into_series_like_nested_ones():
    query = parse_query({"period": "week", "group_by": ["aa", "bb"], "flatten": "true", **RANGE})
    rows = [
        {"aa": "x", "bb": 1, "_start_at": JAN1, "_count": 3},
        {"aa": "x", "bb": 1, "_start_at": JAN8, "_count": 4},
        {"aa": "y", "bb": 2, "_start_at": JAN8, "_count": 5},
    ]
    chart = charts.chart(query, rows)
    assert chart["value"] == "_count"
    assert chart["series"] == [
        {"label": "x / 1", "values": [3, 4]},
        {"label": "y / 2", "values": [None, 5]},
    ]


def test_too_many_groups_are_counted_not_drawn():
    query = parse_query({"group_by": "aa"})
    rows = [{"aa": f"g{i}", "_count": i} for i in range(charts.MAX_SERIES + 5)]
    chart = charts.chart(query, rows)
    assert len(chart["labels"]) == charts.MAX_SERIES and chart["omitted"] == 5


def test_non_numbers_are_gaps_and_raw_records_have_no_chart():
    query = parse_query({"group_by": "aa", "collect": "vv:count"})
    chart = charts.chart(query, [{"aa": "x", "vv:count": True}, {"aa": "y", "vv:count": "3"}])
    assert chart["series"][0]["values"] == [None, None]
    assert charts.chart(parse_query({"limit": "3"}), [{"_id": "1"}]) is None


def test_nested_rows_become_one_table_row_per_period():
    rows = [
        {
            "aa": "x",
            "_count": 3,
            "values": [{"_start_at": JAN1, "_count": 1}, {"_start_at": JAN8, "_count": 2}],
        }
    ]
    columns, flat = charts.table(rows)
    assert columns == ["aa", "_count", "_start_at"]
    assert flat == [
        {"aa": "x", "_count": 1, "_start_at": JAN1},
        {"aa": "x", "_count": 2, "_start_at": JAN8},
    ]
