"""Storage contract, part 4: ``aggregate`` — grouping, periods and collect partials."""

from __future__ import annotations

from typing import Any

import pytest

from backdrop.core.catalog import Catalog
from backdrop.core.query import Collect, Filter, PrefixFilter, Where, sorted_set
from backdrop.errors import InvalidQuery
from tests.core.storage.contract import at, config, record

NAME = "visits-by-region"

# 2024-01-01 is a Monday; 2024-01-07 a Sunday.
RECORDS = [
    record(
        "1",
        "2024-01-01T10:00:00",
        region="north",
        channel="web",
        visits=3,
        rate=1.5,
        ok=True,
        tag="x",
    ),
    record(
        "2",
        "2024-01-01T11:00:00",
        region="north",
        channel="phone",
        visits=4,
        rate=2.25,
        ok=False,
        tag=None,
    ),
    record("3", "2024-01-07T23:59:59", region="south", channel="web", visits=5, rate=None, tag="y"),
    record("4", "2024-01-08T00:00:00", region="south", channel="web", visits=6, tag="x"),
    record("5", "2024-01-09T00:00:00", region=None, channel="web", visits=7),
    record("6", "2024-01-10T00:00:00", channel="web", visits=8),
    record("7", None, region="north", channel="web", visits=100),
]

EVERYTHING = Where()
JANUARY = Where(start=at("2024-01-01T00:00:00"), end=at("2024-02-01T00:00:00"))


@pytest.fixture
def stored(engine):
    Catalog(engine).create(config(NAME))
    engine.records.save(NAME, RECORDS)
    return engine


def rows(engine, where=EVERYTHING, group_by=(), period=None, collects=()) -> list[dict[str, Any]]:
    """The engine's rows in a fixed order, with set partials sorted."""
    result = engine.records.aggregate(NAME, where, tuple(group_by), period, tuple(collects))
    for row in result:
        for key, value in row.items():
            if key.endswith(":set"):
                assert len(value) == len({(type(v), v) for v in value}), "set repeats a value"
                row[key] = sorted_set(value)
    return sorted(result, key=lambda r: ([repr(r[f]) for f in group_by], str(r.get("_start_at"))))


def test_group_by_one_field_leaves_out_missing_and_null(stored):
    assert rows(stored, group_by=["region"]) == [
        {"region": "north", "_count": 3},
        {"region": "south", "_count": 2},
    ]


def test_group_by_two_fields(stored):
    assert rows(stored, group_by=["region", "channel"]) == [
        {"region": "north", "channel": "phone", "_count": 1},
        {"region": "north", "channel": "web", "_count": 2},
        {"region": "south", "channel": "web", "_count": 2},
    ]


def test_filters_and_ranges_apply_before_grouping(stored):
    web = Where(filters=(Filter("channel", "web"),), start=at("2024-01-01T00:00:00"))
    assert rows(stored, web, ["region"]) == [
        {"region": "north", "_count": 1},
        {"region": "south", "_count": 2},
    ]
    prefixed = Where(prefixes=(PrefixFilter("channel", "ph"),))
    assert rows(stored, prefixed, ["channel"]) == [{"channel": "phone", "_count": 1}]


def test_period_weeks_start_on_monday(stored):
    assert rows(stored, JANUARY, period="week") == [
        {"_start_at": at("2024-01-01T00:00:00"), "_count": 3},
        {"_start_at": at("2024-01-08T00:00:00"), "_count": 3},
    ]


def test_a_period_leaves_out_records_without_timestamp(stored):
    result = rows(stored, period="month", collects=[Collect("visits", "sum")])
    assert result == [{"_start_at": at("2024-01-01T00:00:00"), "_count": 6, "visits:sum": 33}]
    assert result[0]["_start_at"].utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("period", "starts"),
    [
        ("hour", ["2024-01-01T10:00:00", "2024-01-01T11:00:00"]),
        ("day", ["2024-01-01T00:00:00"]),
        ("quarter", ["2024-01-01T00:00:00"]),
        ("year", ["2024-01-01T00:00:00"]),
    ],
)
def test_every_period_groups_by_its_start(stored, period, starts):
    where = Where(start=at("2024-01-01T00:00:00"), end=at("2024-01-02T00:00:00"))
    assert [r["_start_at"] for r in rows(stored, where, period=period)] == [at(s) for s in starts]


def test_group_by_with_period(stored):
    assert rows(stored, JANUARY, ["region"], "week") == [
        {"region": "north", "_start_at": at("2024-01-01T00:00:00"), "_count": 2},
        {"region": "south", "_start_at": at("2024-01-01T00:00:00"), "_count": 1},
        {"region": "south", "_start_at": at("2024-01-08T00:00:00"), "_count": 1},
    ]


def test_integer_sums_stay_integers(stored):
    result = rows(stored, group_by=["region"], collects=[Collect("visits", "sum")])
    assert result == [
        {"region": "north", "_count": 3, "visits:sum": 107},
        {"region": "south", "_count": 2, "visits:sum": 11},
    ]
    assert all(type(r["visits:sum"]) is int for r in result)


def test_float_sums_and_sums_of_nothing(stored):
    result = rows(stored, group_by=["region"], collects=[Collect("rate", "sum")])
    assert [r["rate:sum"] for r in result] == [3.75, None]


def test_count_counts_values_present_including_null(stored):
    result = rows(stored, group_by=["region"], collects=[Collect("tag", "count")])
    assert [r["tag:count"] for r in result] == [2, 2]
    result = rows(stored, group_by=["region"], collects=[Collect("rate", "count")])
    assert [r["rate:count"] for r in result] == [2, 1]


def test_set_holds_distinct_values_including_null(stored):
    result = rows(stored, group_by=["region"], collects=[Collect("tag", "set")])
    assert [r["tag:set"] for r in result] == [[None, "x"], ["x", "y"]]
    result = rows(stored, group_by=["channel"], collects=[Collect("region", "set")])
    assert [r["region:set"] for r in result] == [["north"], [None, "north", "south"]]


def test_mean_is_sum_and_count_of_numbers(stored):
    result = rows(
        stored,
        group_by=["region"],
        collects=[Collect("rate", "mean"), Collect("visits", "mean")],
    )
    assert [r["rate:mean"] for r in result] == [[3.75, 2], [0, 0]]
    assert [r["visits:mean"] for r in result] == [[107, 3], [11, 2]]


def test_collects_of_a_field_nobody_has(stored):
    collects = [Collect("absent", m) for m in ("sum", "count", "set", "mean")]
    (row,) = rows(stored, Where(filters=(Filter("region", "south"),)), ["region"], None, collects)
    assert row == {
        "region": "south",
        "_count": 2,
        "absent:sum": None,
        "absent:count": 0,
        "absent:set": [],
        "absent:mean": [0, 0],
    }


def test_several_collects_on_one_query_with_period(stored):
    collects = [Collect("visits", "sum"), Collect("tag", "set"), Collect("channel", "count")]
    assert rows(stored, JANUARY, ["region"], "week", collects) == [
        {
            "region": "north",
            "_start_at": at("2024-01-01T00:00:00"),
            "_count": 2,
            "visits:sum": 7,
            "tag:set": [None, "x"],
            "channel:count": 2,
        },
        {
            "region": "south",
            "_start_at": at("2024-01-01T00:00:00"),
            "_count": 1,
            "visits:sum": 5,
            "tag:set": ["y"],
            "channel:count": 1,
        },
        {
            "region": "south",
            "_start_at": at("2024-01-08T00:00:00"),
            "_count": 1,
            "visits:sum": 6,
            "tag:set": ["x"],
            "channel:count": 1,
        },
    ]


@pytest.mark.parametrize(
    ("field", "method"),
    [("channel", "sum"), ("channel", "mean"), ("ok", "sum"), ("ok", "mean")],
)
def test_sum_or_mean_of_text_or_booleans_is_an_invalid_collect(stored, field, method):
    with pytest.raises(InvalidQuery) as caught:
        rows(stored, group_by=["region"], collects=[Collect(field, method)])
    assert caught.value.message == "invalid collect function"


def test_count_and_set_of_text_and_booleans_are_fine(stored):
    collects = [Collect("ok", "set"), Collect("ok", "count"), Collect("channel", "set")]
    (north, _) = rows(stored, group_by=["region"], collects=collects)
    assert north["ok:set"] == [False, True]
    assert north["ok:count"] == 2
    assert north["channel:set"] == ["phone", "web"]


def test_group_values_keep_their_json_types(engine):
    Catalog(engine).create(config(NAME))
    values = [1, "1", True, 2.5, "true", False, 0]
    engine.records.save(
        NAME, [record(f"r{i}", "2024-01-01T00:00:00", v=v, w=v) for i, v in enumerate(values)]
    )
    result = engine.records.aggregate(NAME, Where(), ("v",), None, (Collect("w", "set"),))
    groups = sorted((type(r["v"]).__name__, repr(r["v"]), r["_count"]) for r in result)
    assert groups == sorted((type(v).__name__, repr(v), 1) for v in values)
    for row in result:
        (member,) = row["w:set"]
        assert type(member) is type(row["v"]) and member == row["v"]


def test_aggregating_nothing_gives_no_rows(engine):
    Catalog(engine).create(config(NAME))
    assert engine.records.aggregate(NAME, Where(), ("region",), None, ()) == []
    assert engine.records.aggregate(NAME, Where(), (), "week", (Collect("v", "sum"),)) == []


def test_equal_numbers_are_one_group_whatever_their_spelling(engine):
    Catalog(engine).create(config(NAME))
    records = [record("int", "2024-01-01T00:00:00", v=1, n=2), record("float", v=1.0, n=3)]
    engine.records.save(NAME, records)
    (row,) = engine.records.aggregate(NAME, Where(), ("v",), None, (Collect("n", "sum"),))
    assert (row["v"], row["_count"], row["n:sum"]) == (1, 2, 5)


def test_sums_beyond_64_bit_integers_do_not_fail(engine):
    Catalog(engine).create(config(NAME))
    big = 2**62
    engine.records.save(
        NAME, [record(f"r{i}", "2024-01-01T00:00:00", g="a", n=big) for i in range(3)]
    )
    (row,) = engine.records.aggregate(NAME, Where(), ("g",), None, (Collect("n", "sum"),))
    assert row["n:sum"] == pytest.approx(3 * big)
