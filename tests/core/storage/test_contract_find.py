"""Storage contract, part 3: ``find`` — filters, prefixes, time ranges, sort, limit."""

from __future__ import annotations

import pytest

from backdrop.core.catalog import Catalog
from backdrop.core.query import Filter, PrefixFilter, Sort, Where
from tests.core.storage.contract import at, config, ids, record, returned

NAME = "find-me"

RECORDS = [
    record("a", "2024-01-01T00:00:00", kind="apple", n=5, flag=True, code="5", rank=3),
    record("b", "2024-01-02T12:00:00", kind="banana", n=5.5, flag=False, code="a.b", rank=1),
    record("c", "2024-01-03T00:00:00", kind="apple", n="5", flag="true", code="a%b", rank=2),
    record("d", None, kind="cherry", n=None, code="a_b"),
    record("e", "2024-01-08T00:00:00", kind="apple.pie", n=10, code="ab", rank=None),
    record("f", "2024-01-02T12:00:00", kind="Apple", n=1, flag=1, code="(a)*+?[$^|\\"),
]


@pytest.fixture
def stored(engine):
    Catalog(engine).create(config(NAME))
    engine.records.save(NAME, RECORDS)
    return engine


def found(engine, **where) -> list[str]:
    return ids(engine.records.find(NAME, Where(**where)))


def equal(field: str, value: str) -> dict:
    return {"filters": (Filter(field, value),)}


def prefixed(field: str, prefix: str) -> dict:
    return {"prefixes": (PrefixFilter(field, prefix),)}


def test_everything_by_timestamp_then_id_missing_timestamps_first(stored):
    assert found(stored) == ["d", "a", "b", "f", "c", "e"]
    assert stored.records.find(NAME, Where()) == [
        returned(r)
        for r in sorted(
            RECORDS, key=lambda r: (r.get("_timestamp") is not None, r.get("_timestamp"), r["_id"])
        )
    ]


def test_a_string_filter_matches_that_string_exactly(stored):
    assert found(stored, **equal("kind", "apple")) == ["a", "c"]
    assert found(stored, **equal("kind", "Apple")) == ["f"]
    assert found(stored, **equal("kind", "appl")) == []


def test_a_number_filter_matches_the_number_and_the_string(stored):
    assert found(stored, **equal("n", "5")) == ["a", "c"]
    assert found(stored, **equal("n", "5.0")) == ["a"]
    assert found(stored, **equal("n", "5.5")) == ["b"]
    assert found(stored, **equal("n", "10")) == ["e"]


def test_booleans_match_true_and_false_but_not_numbers(stored):
    assert found(stored, **equal("flag", "true")) == ["a", "c"]
    assert found(stored, **equal("flag", "false")) == ["b"]
    assert found(stored, **equal("flag", "1")) == ["f"]
    assert found(stored, **equal("flag", "0")) == []


def test_filters_combine_with_and(stored):
    both = {"filters": (Filter("kind", "apple"), Filter("n", "5"))}
    assert found(stored, **both) == ["a", "c"]
    narrower = {"filters": (Filter("kind", "apple"), Filter("flag", "true"), Filter("rank", "2"))}
    assert found(stored, **narrower) == ["c"]


def test_a_filter_on_a_missing_field_matches_nothing(stored):
    assert found(stored, **equal("missing", "x")) == []
    assert found(stored, **equal("rank", "null")) == []


def test_a_filter_on_id(stored):
    assert found(stored, **equal("_id", "c")) == ["c"]


def test_prefixes_are_literal_text(stored):
    assert found(stored, **prefixed("kind", "apple")) == ["a", "c", "e"]
    assert found(stored, **prefixed("code", "a.")) == ["b"]
    assert found(stored, **prefixed("code", "a%")) == ["c"]
    assert found(stored, **prefixed("code", "a_")) == ["d"]
    assert found(stored, **prefixed("code", "a")) == ["d", "b", "c", "e"]
    assert found(stored, **prefixed("code", "(a)*+?[$^|\\")) == ["f"]
    assert found(stored, **prefixed("code", ".*")) == []


def test_prefixes_are_case_sensitive_and_only_match_strings(stored):
    assert found(stored, **prefixed("kind", "App")) == ["f"]
    assert found(stored, **prefixed("n", "5")) == ["c"]  # the string, not 5 or 5.5
    assert found(stored, **prefixed("flag", "tr")) == ["c"]


def test_prefix_and_filter_together(stored):
    where = {"filters": (Filter("n", "5"),), "prefixes": (PrefixFilter("kind", "app"),)}
    assert found(stored, **where) == ["a", "c"]


def test_start_is_inclusive_and_end_exclusive(stored):
    where = {"start": at("2024-01-01T00:00:00"), "end": at("2024-01-03T00:00:00")}
    assert found(stored, **where) == ["a", "b", "f"]
    assert found(stored, **where, end_inclusive=True) == ["a", "b", "f", "c"]


def test_open_ended_ranges_exclude_records_without_timestamp(stored):
    assert found(stored, start=at("2024-01-02T12:00:00")) == ["b", "f", "c", "e"]
    assert found(stored, end=at("2024-01-02T12:00:00")) == ["a"]
    assert found(stored, end=at("2024-01-02T12:00:00"), end_inclusive=True) == ["a", "b", "f"]


def test_ranges_are_instants_whatever_the_offset(stored):
    start = at("2024-01-02T13:00:00+01:00")  # 12:00 UTC
    assert found(stored, start=start, end=at("2024-01-03T00:00:00")) == ["b", "f"]


def test_sort_by_a_field_missing_values_first_ascending_last_descending(stored):
    ascending = stored.records.find(NAME, Where(), Sort("rank"))
    assert ids(ascending) == ["d", "e", "f", "b", "c", "a"]
    descending = stored.records.find(NAME, Where(), Sort("rank", descending=True))
    assert ids(descending) == ["a", "c", "b", "d", "e", "f"]


def test_sort_by_a_string_field(stored):
    assert ids(stored.records.find(NAME, Where(), Sort("kind"))) == ["f", "a", "c", "e", "b", "d"]


def test_sort_by_timestamp_descending_puts_missing_last(stored):
    result = stored.records.find(NAME, Where(), Sort("_timestamp", descending=True))
    assert ids(result) == ["e", "c", "b", "f", "a", "d"]


def test_sort_by_id(stored):
    assert ids(stored.records.find(NAME, Where(), Sort("_id", descending=True))) == list("fedcba")


def test_limit_cuts_after_sorting(stored):
    assert ids(stored.records.find(NAME, Where(), limit=2)) == ["d", "a"]
    by_rank = stored.records.find(NAME, Where(), Sort("rank", descending=True), limit=3)
    assert ids(by_rank) == ["a", "c", "b"]
    assert ids(stored.records.find(NAME, Where(**equal("kind", "apple")), limit=10)) == ["a", "c"]
    assert stored.records.find(NAME, Where(), limit=0) == []


def test_a_data_set_without_records_finds_nothing(engine):
    Catalog(engine).create(config("empty-one"))
    assert engine.records.find("empty-one", Where()) == []
    assert engine.records.find("empty-one", Where(**equal("x", "1")), Sort("x"), 5) == []
