"""Storage contract, optional part: ``save_batches`` (``BatchSaving``), many
batches in one transaction, as file uploads store a whole file."""

from __future__ import annotations

import pytest

from backdrop.core.query import Where
from backdrop.core.storage.base import BatchSaving
from tests.core.storage.contract import ids, record

NAME = "batched"


@pytest.fixture
def store(engine):
    engine.records.create(NAME)
    if not isinstance(engine.records, BatchSaving):
        pytest.skip(f"{engine.scheme} stores upload batches one transaction each (no save_batches)")
    return engine.records


def _batches(count: int, size: int, prefix: str = "r"):
    for b in range(count):
        yield [record(f"{prefix}{b:02}-{i:03}", "2024-01-01T00:00:00", n=i) for i in range(size)]


def test_every_batch_is_stored_and_ids_replace(store):
    store.save(NAME, [record("r00-000", n=-1), record("other")])
    assert store.save_batches(NAME, _batches(3, 50)) == 150
    assert store.count(NAME) == 151
    assert store.get(NAME, "r00-000")["n"] == 0


def test_a_failure_in_a_later_batch_rolls_every_batch_back(store):
    store.save(NAME, [record("kept", n=1), record("r00-001", n=-1)])

    def failing():
        yield from _batches(2, 20)
        raise ValueError("the file turned out bad")

    with pytest.raises(ValueError, match="turned out bad"):
        store.save_batches(NAME, failing())
    assert sorted(ids(store.find(NAME, Where()))) == ["kept", "r00-001"]
    assert store.get(NAME, "r00-001")["n"] == -1


def test_an_unstorable_value_in_a_later_batch_stores_nothing(store):
    def with_bad_value():
        yield from _batches(2, 10)
        yield [record("bad", n=object())]

    with pytest.raises(Exception):  # noqa: B017 -- InvalidRecords on each engine
        store.save_batches(NAME, with_bad_value())
    assert store.count(NAME) == 0


def test_capping_applies_once_after_the_last_batch(store):
    store.save_batches(NAME, _batches(4, 25), capped_size=2000)
    remaining = store.count(NAME)
    assert 0 < remaining < 100
