"""The query model's value rules: filter numbers and set ordering."""

from datetime import UTC, datetime

from backdrop.core.catalog import Catalog
from backdrop.core.query import COLLECT_METHODS, Filter, Where, sorted_set


def test_filter_numbers_are_ints_within_64_bits_and_floats_beyond():
    assert Filter("x", "5").number == 5 and isinstance(Filter("x", "5").number, int)
    assert Filter("x", "2.5").number == 2.5
    assert isinstance(Filter("x", "1e300").number, float)
    assert Filter("x", "nan").number is None
    assert Filter("x", "web").number is None


def test_sets_keep_booleans_apart_from_equal_numbers():
    assert sorted_set([True, 1, 0, False, 1.0, None, "a"]) == [None, False, True, 0, 1, "a"]


def test_mean_partials_merge_across_periods():
    mean = COLLECT_METHODS["mean"]
    assert mean.finish(mean.merge([3, 2], [6, 1])) == 3
    assert mean.finish([0, 0]) is None


def test_a_huge_number_filter_matches_nothing_rather_than_failing(engine):
    Catalog(engine).create({"name": "huge", "data_group": "huge", "data_type": "huge"})
    now = datetime(2024, 1, 1, tzinfo=UTC)
    engine.records.save("huge", [{"_id": "a", "_updated_at": now, "x": 5}])
    assert engine.records.find("huge", Where(filters=(Filter("x", "1e300"),))) == []
