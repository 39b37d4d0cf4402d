"""Storage contract, part 2: storing, replacing, reading and deleting records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backdrop.core.catalog import Catalog
from backdrop.core.query import Filter, Where
from tests.core.storage.contract import UPDATED, at, config, ids, record, returned


@pytest.fixture
def data_set(engine):
    Catalog(engine).create(config("my-data_set-1", "group-a", "type_b"))
    return "my-data_set-1"


def test_a_record_comes_back_as_stored_without_period_keys(engine, data_set):
    stored = record(
        "rec-1",
        "2024-03-14T15:09:26.123",  # milliseconds: what every engine keeps
        _start_at=at("2024-03-01T00:00:00"),
        _end_at=at("2024-04-01T00:00:00"),
        text='héllo, "world" ∑',
        integer=42,
        big=2**53 + 1,
        negative=-7,
        real=2.5,
        yes=True,
        no=False,
        nothing=None,
        empty="",
    )
    engine.records.save(data_set, [stored])
    got = engine.records.get(data_set, "rec-1")
    assert got == returned(stored)
    assert [type(got[k]) for k in ("integer", "big", "real", "yes")] == [int, int, float, bool]
    for key in ("_timestamp", "_updated_at", "_start_at", "_end_at"):
        assert got[key].utcoffset() == timedelta(0)
    assert engine.records.find(data_set, Where()) == [returned(stored)]


def test_records_without_a_timestamp_are_kept(engine, data_set):
    engine.records.save(data_set, [record("plain", value="x")])
    assert engine.records.get(data_set, "plain") == {
        "_id": "plain",
        "_updated_at": UPDATED,
        "value": "x",
    }


def test_unknown_records_are_none(engine, data_set):
    assert engine.records.get(data_set, "nope") is None
    engine.records.save(data_set, [record("yes")])
    assert engine.records.get(data_set, "nope") is None


def test_saving_an_existing_id_replaces_the_whole_record(engine, data_set):
    engine.records.save(data_set, [record("same", "2024-01-01T00:00:00", old=1, shared="a")])
    engine.records.save(data_set, [record("same", "2024-02-01T00:00:00", new=2, shared="b")])
    assert engine.records.find(data_set, Where()) == [
        returned(record("same", "2024-02-01T00:00:00", new=2, shared="b"))
    ]


def test_a_repeated_id_within_one_batch_keeps_the_last(engine, data_set):
    engine.records.save(
        data_set, [record("twice", n=1), record("other", n=0), record("twice", n=2)]
    )
    assert engine.records.get(data_set, "twice")["n"] == 2
    assert sorted(ids(engine.records.find(data_set, Where()))) == ["other", "twice"]


def test_a_retried_batch_does_not_duplicate(engine, data_set):
    batch = [record(f"r{i}", f"2024-01-0{i}T00:00:00", n=i) for i in range(1, 6)]
    engine.records.save(data_set, batch)
    engine.records.save(data_set, batch)
    assert ids(engine.records.find(data_set, Where())) == ["r1", "r2", "r3", "r4", "r5"]


def test_a_batch_that_cannot_be_stored_stores_nothing(engine, data_set):
    engine.records.save(data_set, [record("existing", n=1)])
    unstorable = [record("new", n=2), record("existing", n=3), record("bad", n=object())]
    with pytest.raises(Exception):  # noqa: B017 - each engine fails in its own way
        engine.records.save(data_set, unstorable)
    assert engine.records.find(data_set, Where()) == [returned(record("existing", n=1))]


def test_ids_with_url_characters_work_everywhere(engine, data_set):
    awkward = ["a:b", "a+b", "a.b", "a/b", "2024-01-01T00:00:00+00:00.x", "ünï", "%2F", "a*b?"]
    engine.records.save(data_set, [record(i, n=n) for n, i in enumerate(awkward)])
    for n, record_id in enumerate(awkward):
        assert engine.records.get(data_set, record_id)["n"] == n
        assert ids(engine.records.find(data_set, Where(filters=(Filter("_id", record_id),)))) == [
            record_id
        ]
    assert engine.records.delete(data_set, "a/b") is True
    assert engine.records.get(data_set, "a/b") is None
    assert engine.records.get(data_set, "a.b") is not None


def test_delete_record(engine, data_set):
    engine.records.save(data_set, [record("gone", n=1), record("stays", n=2)])
    assert engine.records.delete(data_set, "gone") is True
    assert engine.records.get(data_set, "gone") is None
    assert engine.records.delete(data_set, "gone") is False
    assert ids(engine.records.find(data_set, Where())) == ["stays"]


def test_delete_record_of_an_empty_data_set_is_false(engine, data_set):
    assert engine.records.delete(data_set, "anything") is False


def test_empty_removes_every_record_but_keeps_the_data_set(engine, data_set):
    engine.records.save(data_set, [record(f"r{i}", n=i) for i in range(10)])
    engine.records.empty(data_set)
    assert engine.records.find(data_set, Where()) == []
    assert engine.records.last_updated(data_set) is None
    assert Catalog(engine).get(data_set)["data_group"] == "group-a"
    engine.records.save(data_set, [record("again", n=1)])
    assert ids(engine.records.find(data_set, Where())) == ["again"]
    engine.records.empty(data_set)
    engine.records.empty(data_set)  # emptying an empty data set is fine


def test_data_sets_keep_their_records_apart(engine, data_set):
    Catalog(engine).create(config("neighbour"))
    engine.records.save(data_set, [record("same-id", owner="mine")])
    engine.records.save("neighbour", [record("same-id", owner="theirs")])
    engine.records.empty("neighbour")
    assert engine.records.get(data_set, "same-id")["owner"] == "mine"
    assert engine.records.get("neighbour", "same-id") is None


def test_last_updated_is_the_newest_updated_at(engine, data_set):
    assert engine.records.last_updated(data_set) is None
    newest = datetime(2024, 5, 2, 8, 30, 15, 250000, tzinfo=UTC)
    engine.records.save(data_set, [record("new", updated_at=newest)])
    engine.records.save(data_set, [record("old", updated_at=newest - timedelta(days=3))])
    assert engine.records.last_updated(data_set) == newest
    assert engine.records.last_updated(data_set).utcoffset() == timedelta(0)


def _padded(record_id: str, minutes: int) -> dict:
    """A record of roughly 1 kB, updated ``minutes`` after UPDATED."""
    return record(record_id, updated_at=UPDATED + timedelta(minutes=minutes), payload="x" * 1000)


def test_capped_size_drops_the_oldest_records_until_the_rest_fit(engine, data_set):
    engine.records.save(data_set, [_padded("t1", 1), _padded("t2", 2)], capped_size=3500)
    assert sorted(ids(engine.records.find(data_set, Where()))) == ["t1", "t2"]
    # Arriving out of order: the oldest by _updated_at go, not the first saved.
    engine.records.save(
        data_set, [_padded("t5", 5), _padded("t0", 0), _padded("t4", 4)], capped_size=3500
    )
    assert sorted(ids(engine.records.find(data_set, Where()))) == ["t2", "t4", "t5"]


def test_capped_size_zero_or_none_is_unbounded(engine, data_set):
    engine.records.save(data_set, [_padded(f"r{i}", i) for i in range(5)], capped_size=0)
    engine.records.save(data_set, [_padded(f"s{i}", i) for i in range(5)], capped_size=None)
    engine.records.save(data_set, [_padded(f"t{i}", i) for i in range(5)])
    assert len(engine.records.find(data_set, Where())) == 15
