"""MongoDB capping by a per-data-set byte counter (issue 18), and create() when a
stale worker keeps writing to a data set being re-created.

All of these run on mongomock, an in-process stand-in, which takes the
engine's client-side sizing branch (it lacks ``$bsonSize``) and has no
transactions; ``test_mongodb_limits.py`` has the real-server capped save.
"""

from __future__ import annotations

from datetime import timedelta

import bson
import mongomock
import pytest

from backdrop.core.catalog import Catalog
from backdrop.core.query import Where
from backdrop.core.storage.mongodb import MongoEngine
from backdrop.core.storage.mongodb.capping import SIZES
from backdrop.errors import StorageUnavailable
from tests.core.storage.contract import UPDATED, config, ids, record
from tests.mongodb_recording import RecordingClient

DATABASE = "backdrop_capping"


@pytest.fixture
def client():
    return RecordingClient(mongomock.MongoClient(tz_aware=True))


@pytest.fixture
def engine(client):
    engine = MongoEngine(f"mongodb://localhost:27017/{DATABASE}", client=client)
    Catalog(engine).create(config("capped"))
    return engine


def _padded(record_id: str, minute: int, size: int = 200) -> dict:
    return record(record_id, updated_at=UPDATED + timedelta(minutes=minute), pad="x" * size)


def _stored_bytes(client) -> int:
    """Looked at past the recorder, so as not to count as the engine's reads."""
    return sum(len(bson.encode(d)) for d in client._client[DATABASE]["capped"].find({}))


def _counter(client) -> int | None:
    stored = client._client[DATABASE][SIZES].find_one({"_id": "capped"})
    return None if stored is None else stored["bytes"]


def _size(prepared: dict) -> int:
    return len(bson.encode(prepared))


def test_the_counter_follows_every_kind_of_write(engine, client):
    cap = 10**6
    engine.records.save("capped", [_padded("a", 1), _padded("b", 2)], capped_size=cap)
    assert _counter(client) == _stored_bytes(client) > 0
    # replacing by _id, and two records with one _id in a batch (the last is stored)
    batch = [_padded("b", 3, 50), _padded("c", 4), _padded("c", 5, 10)]
    engine.records.save("capped", batch, capped_size=cap)
    assert _counter(client) == _stored_bytes(client)
    assert engine.records.delete("capped", "a") is True
    assert engine.records.delete("capped", "nobody") is False
    assert _counter(client) == _stored_bytes(client)
    engine.records.save("capped", [_padded("d", 6)], capped_size=cap, replace=True)
    assert _counter(client) == _stored_bytes(client) == _size(_padded("d", 6))
    engine.records.empty("capped")
    assert _counter(client) == 0 and _stored_bytes(client) == 0


def test_an_uncapped_save_drops_the_counter_and_the_next_capped_save_recounts(engine, client):
    three = 3 * _size(_padded("r0", 0))
    engine.records.save("capped", [_padded("r0", 0)], capped_size=three)
    engine.records.save("capped", [_padded("r1", 1), _padded("r2", 2)], capped_size=0)
    assert _counter(client) is None

    engine.records.save("capped", [_padded("r3", 3)], capped_size=three)

    assert ids(engine.records.find("capped", Where())) == ["r1", "r2", "r3"]
    assert _counter(client) == three


def test_a_deleted_record_frees_its_bytes(engine):
    three = 3 * _size(_padded("r0", 0))
    engine.records.save("capped", [_padded(f"r{i}", i) for i in range(3)], capped_size=three)
    engine.records.delete("capped", "r1")

    engine.records.save("capped", [_padded("r3", 3)], capped_size=three)

    assert ids(engine.records.find("capped", Where())) == ["r0", "r2", "r3"]


def test_a_counter_saying_more_than_is_stored_is_recounted_not_obeyed(engine, client):
    """A standalone server can leave the counter off after a failed write."""
    three = 3 * _size(_padded("r0", 0))
    engine.records.save("capped", [_padded("r0", 0), _padded("r1", 1)], capped_size=three)
    client[DATABASE][SIZES].update_one({"_id": "capped"}, {"$set": {"bytes": 10**9}})

    engine.records.save("capped", [_padded("r2", 2), _padded("r3", 3)], capped_size=three)

    assert ids(engine.records.find("capped", Where())) == ["r1", "r2", "r3"]
    assert _counter(client) == _stored_bytes(client) == three


def _whole_collection_reads(client) -> list:
    """Calls that read every record of the data set (an empty filter)."""
    reads = []
    for call in client.calls:
        if call.namespace != f"{DATABASE}.capped":
            continue
        if call.method == "find" and not (call.args[0] if call.args else {}):
            reads.append(call)
        if call.method == "aggregate" and not any("$match" in s for s in call.args[0]):
            reads.append(call)
    return reads


def test_once_counted_a_capped_save_reads_only_its_batch_and_what_it_trims(engine, client):
    engine.records.save("capped", [_padded(f"r{i:02}", i) for i in range(50)], capped_size=10**6)
    client.calls.clear()

    engine.records.save("capped", [_padded("r50", 50)], capped_size=10**6)
    assert _whole_collection_reads(client) == []

    engine.records.save("capped", [_padded("r51", 51)], capped_size=_stored_bytes(client))
    (walk,) = _whole_collection_reads(client)
    assert walk.kwargs["sort"] == [("_updated_at", 1), ("_id", 1)]  # oldest first, stopped early
    assert ids(engine.records.find("capped", Where())) == [f"r{i:02}" for i in range(1, 52)]


class _StaleWriter:
    """A database handle whose drops are followed by a stale worker's write,
    ``times`` times: the collection is back before create() can make it."""

    def __init__(self, database, times: int):
        self._database, self.times = database, times

    def drop_collection(self, name):
        self._database.drop_collection(name)
        if self.times:
            self.times -= 1
            self._database[name].insert_one(record("stale", n=1))

    def __getattr__(self, name):
        return getattr(self._database, name)

    def __getitem__(self, name):
        return self._database[name]


def _with_stale_writer(engine, times: int) -> None:
    database = engine.connection.database
    stale = _StaleWriter(database(), times)
    engine.connection.database = lambda: stale  # type: ignore[method-assign]


def test_create_wins_over_a_stale_write_between_its_drop_and_its_creation(engine, client):
    engine.records.save("capped", [record("old", n=1)])
    Catalog(engine).delete("capped")
    _with_stale_writer(engine, times=2)

    Catalog(engine).create(config("capped"))

    assert engine.records.find("capped", Where()) == []
    indexes = client[DATABASE]["capped"].index_information().values()
    assert ["_timestamp", "_id"] in [[key for key, _ in index["key"]] for index in indexes]


def test_create_gives_up_with_a_503_if_stale_writes_never_stop(engine):
    Catalog(engine).delete("capped")
    _with_stale_writer(engine, times=100)

    with pytest.raises(StorageUnavailable) as raised:
        Catalog(engine).create(config("capped"))

    assert raised.value.status == 503 and "retry" in raised.value.message
    assert Catalog(engine).get("capped") is None
