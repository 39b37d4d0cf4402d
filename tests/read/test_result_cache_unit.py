"""The result cache on its own: its key, its bound in bytes, LRU order, the
setting that sizes it (the read app's use of it is in test_result_cache.py)."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from backdrop.core.data_sets import DataSetConfig
from backdrop.core.query_args import parse_query
from backdrop.core.result_cache import ENTRY_OVERHEAD, Entry, Key, ResultCache, key
from backdrop.settings import MIB, Settings, SettingsError

CONFIG = DataSetConfig(name="sales", data_group="shop", data_type="sales")
NOW = datetime(2024, 3, 6, 12, 30, tzinfo=UTC)  # a Wednesday


def entry(size: int) -> Entry:
    """An entry costing exactly ``size`` bytes."""
    return Entry(b"x" * (size - ENTRY_OVERHEAD), ())


def at(answer: Hashable, version: int = 1, data_set: str = "sales") -> Key:
    return Key(data_set, version, answer)


def test_queries_that_parse_alike_share_a_key_and_any_difference_separates_them():
    one = parse_query({"group_by": "region", "collect": "value:sum"})
    same = parse_query({"collect": "value:sum", "group_by": "region"})
    assert key(CONFIG, 7, one, NOW) == key(CONFIG, 7, same, NOW)
    others = [
        key(CONFIG, 8, one, NOW),  # the next version
        key(replace(CONFIG, name="other"), 7, one, NOW),
        key(CONFIG, 7, parse_query({"group_by": "region", "format": "csv"}), NOW),
        key(CONFIG, 7, parse_query({"group_by": "region", "collect": "value:mean"}), NOW),
        key(replace(CONFIG, published=False), 7, one, NOW),
        key(replace(CONFIG, raw_queries_allowed=False), 7, one, NOW),
    ]
    assert len({key(CONFIG, 7, one, NOW), *others}) == 1 + len(others)


def test_a_duration_without_bounds_keys_on_the_period_holding_now():
    query = parse_query({"period": "week", "duration": "4", "collect": "value:sum"})
    later_that_week = datetime(2024, 3, 10, 23, 59, tzinfo=UTC)  # Sunday
    next_week = datetime(2024, 3, 11, 0, 0, tzinfo=UTC)  # Monday
    assert key(CONFIG, 1, query, NOW) == key(CONFIG, 1, query, later_that_week)
    assert key(CONFIG, 1, query, NOW) != key(CONFIG, 1, query, next_week)


def test_queries_with_explicit_bounds_do_not_depend_on_now():
    bounded = [
        {"period": "day", "duration": "3", "start_at": "2024-01-01T00:00:00Z"},
        {"period": "day", "duration": "3", "end_at": "2024-01-09T00:00:00Z"},
        {"period": "day", "start_at": "2024-01-01T00:00:00Z", "end_at": "2024-01-09T00:00:00Z"},
        {"group_by": "region"},
    ]
    years_later = datetime(2031, 1, 1, tzinfo=UTC)
    for args in bounded:
        query = parse_query(args)
        assert key(CONFIG, 1, query, NOW) == key(CONFIG, 1, query, years_later), args


def test_the_cache_holds_at_most_its_bound_dropping_the_least_recently_used():
    cache = ResultCache(8000)
    for name in "abcd":
        cache.put(at(name), entry(1000))
    assert cache.get(at("a")) is not None  # now the most recently used
    for name in "efghij":
        cache.put(at(name), entry(1000))
    assert cache.held <= 8000 and len(cache) == 8
    assert cache.get(at("a")) is not None
    assert cache.get(at("b")) is None and cache.get(at("c")) is None  # the oldest went first
    assert cache.get(at("j")) is not None


def test_an_entry_over_an_eighth_of_the_bound_is_not_kept():
    cache = ResultCache(8000)
    cache.put(at("fits"), entry(1000))
    cache.put(at("too big"), entry(1001))
    assert cache.get(at("fits")) is not None
    assert cache.get(at("too big")) is None
    assert cache.held == 1000


def test_putting_a_key_again_replaces_its_entry_and_its_bytes():
    cache = ResultCache(80_000)
    cache.put(at("k"), entry(2000))
    cache.put(at("k"), entry(3000))
    assert len(cache) == 1 and cache.held == 3000
    kept = cache.get(at("k"))
    assert kept is not None and kept.size == 3000


def test_a_newer_version_of_a_data_set_drops_the_entries_of_its_older_ones():
    cache = ResultCache(80_000)
    cache.put(at("q1", 1), entry(1000))
    cache.put(at("q2", 1), entry(1000))
    cache.put(at("q1", 1, "other"), entry(1000))
    assert cache.get(at("q1", 2)) is None  # a reader saw version 2
    assert cache.held == 1000 and len(cache) == 1
    assert cache.get(at("q1", 1, "other")) is not None
    cache.put(at("q2", 1), entry(1000))  # a slow reader of version 1: nobody will ask again
    assert cache.get(at("q2", 1)) is None and cache.held == 1000
    cache.put(at("q1", 3), entry(2000))
    assert cache.get(at("q1", 3)) is not None and cache.held == 3000


def test_a_cache_of_zero_bytes_keeps_nothing():
    cache = ResultCache(0)
    cache.put(at("k"), entry(600))
    assert not cache.enabled
    assert cache.get(at("k")) is None and len(cache) == 0


def test_threads_putting_and_getting_at_once_keep_the_count_of_bytes_exact():
    cache = ResultCache(64 * 1000)

    def work(thread: int) -> None:
        for n in range(2000):
            cache.put(at((thread, n % 150)), entry(1000 + n % 7))
            cache.get(at((thread, (n * 7) % 150)))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = [cache.get(at((t, n))) for t in range(8) for n in range(150)]
    assert cache.held == sum(e.size for e in kept if e is not None)
    assert cache.held <= 64 * 1000


def test_the_setting_defaults_to_64_mib_and_takes_0_to_turn_the_cache_off():
    assert Settings().result_cache_bytes == 64 * MIB
    assert Settings.from_env({}).result_cache_bytes == 64 * MIB
    assert Settings.from_env({"BACKDROP_RESULT_CACHE_BYTES": "0"}).result_cache_bytes == 0
    assert Settings.from_env({"BACKDROP_RESULT_CACHE_BYTES": "1024"}).result_cache_bytes == 1024


@pytest.mark.parametrize("value", ["-1", "lots", "1.5"])
def test_a_bad_setting_names_the_variable_and_what_is_allowed(value):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"BACKDROP_RESULT_CACHE_BYTES": value})
    assert "BACKDROP_RESULT_CACHE_BYTES" in str(caught.value)
    assert "must be 0 or a positive integer" in str(caught.value)
