"""Storage contract, part 5: the record store's own life cycle, on every engine:
``count``, ``create`` over leftovers, ``drop``, and ``save(..., replace=True)``
swapping a data set's records in one step."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from backdrop.core.query import Where
from tests.core.storage.contract import UPDATED, ids, record, returned

NAME = "store"


@pytest.fixture
def store(engine):
    engine.records.create(NAME)
    return engine.records


def test_count_counts_the_records_held(store):
    assert store.count(NAME) == 0
    store.save(NAME, [record(f"r{i}", "2024-01-01T00:00:00", n=i) for i in range(5)])
    store.save(NAME, [record("r0", n=9), record("plain")])  # r0 is replaced, not added
    assert store.count(NAME) == 6
    store.delete(NAME, "r1")
    assert store.count(NAME) == 5
    store.empty(NAME)
    assert store.count(NAME) == 0


def test_count_of_an_unknown_data_set_is_zero(engine):
    assert engine.records.count("never-created") == 0


def test_create_drops_what_an_earlier_data_set_of_that_name_left(store):
    store.save(NAME, [record(f"old{i}", "2024-01-01T00:00:00", n=i) for i in range(3)])
    store.create(NAME)
    assert store.count(NAME) == 0
    assert store.find(NAME, Where()) == []
    assert store.get(NAME, "old0") is None
    assert store.last_updated(NAME) is None
    store.save(NAME, [record("new", "2024-02-01T00:00:00", n=1)])
    assert ids(store.find(NAME, Where(start=UPDATED - timedelta(days=3650)))) == ["new"]


def test_drop_removes_the_records_and_only_those(store):
    store.create("neighbour")
    store.save(NAME, [record("a", n=1), record("b", n=2)])
    store.save("neighbour", [record("a", n=3)])
    store.drop(NAME)
    assert store.count(NAME) == 0
    assert store.find(NAME, Where()) == []
    assert store.get(NAME, "a") is None
    assert store.last_updated(NAME) is None
    assert store.get("neighbour", "a")["n"] == 3


def test_drop_twice_or_of_an_unknown_data_set_is_no_error(store):
    store.drop(NAME)
    store.drop(NAME)
    store.drop("never-created")
    store.create(NAME)  # and the name can be created again, empty
    assert store.count(NAME) == 0


def test_replace_leaves_exactly_the_new_records(store):
    store.save(NAME, [record("kept-id", n=1), record("gone", n=2), record("also-gone", n=3)])
    new = [record("kept-id", n=10), record("fresh", n=20)]
    store.save(NAME, new, replace=True)
    assert sorted(ids(store.find(NAME, Where()))) == ["fresh", "kept-id"]
    assert store.get(NAME, "kept-id") == returned(new[0])
    assert store.count(NAME) == 2


def test_replace_with_no_records_empties_the_data_set(store):
    store.save(NAME, [record("a", n=1)])
    store.save(NAME, [], replace=True)
    assert store.count(NAME) == 0


def test_replace_of_an_empty_data_set_stores_the_records(store):
    store.save(NAME, [record("a", n=1)], replace=True)
    assert ids(store.find(NAME, Where())) == ["a"]


def test_a_replace_that_cannot_be_stored_keeps_the_old_records(store):
    store.save(NAME, [record("old", n=1)])
    with pytest.raises(Exception):  # noqa: B017 - each engine fails in its own way
        store.save(NAME, [record("new", n=2), record("bad", n=object())], replace=True)
    assert store.find(NAME, Where()) == [returned(record("old", n=1))]


def test_replace_applies_the_cap_to_the_new_records(store):
    store.save(NAME, [record(f"old{i}", payload="x" * 1000) for i in range(3)])
    later = [
        record(f"new{i}", updated_at=UPDATED + timedelta(minutes=i), payload="x" * 1000)
        for i in range(3)
    ]
    store.save(NAME, later, capped_size=2500, replace=True)
    assert sorted(ids(store.find(NAME, Where()))) == ["new1", "new2"]


def _generation(n: int, size: int) -> list[dict]:
    """A full set of records, every one marked with its generation; ids are
    the generation's own, so a mix of two sets would show in ids and marks."""
    return [record(f"g{n}-{i:04d}", "2024-01-01T00:00:00", generation=n) for i in range(size)]


def test_a_reader_during_replaces_sees_one_whole_set_at_a_time(engine, store):
    if getattr(getattr(engine, "connection", None), "stand_in", False):
        pytest.skip("mongomock has no transactions; a real replica set runs replace in one")
    size, generations = 300, 6
    store.save(NAME, _generation(0, size))
    seen: list[tuple[int, ...]] = []  # per read: the distinct generations it got
    problems: list[str] = []
    done, read_once = threading.Event(), threading.Event()

    def reader() -> None:
        try:
            while not done.is_set():
                found = store.find(NAME, Where())
                marks = tuple(sorted({r["generation"] for r in found}))
                seen.append(marks)
                if len(found) != size or len(marks) != 1:
                    problems.append(f"{len(found)} records of generations {marks}")
                read_once.set()
        except Exception as error:  # reported by the assertion below
            problems.append(repr(error))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(1, generations + 1):
            read_once.clear()
            store.save(NAME, _generation(n, size), replace=True)
            read_once.wait(timeout=30)  # let the reader see this generation too
    finally:
        done.set()
        thread.join(timeout=60)
    assert problems == []
    assert len({marks for marks in seen}) >= 2  # the reads really ran between replaces
    assert {r["generation"] for r in store.find(NAME, Where())} == {generations}
