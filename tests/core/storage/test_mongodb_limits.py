"""MongoDB engine on real servers' terms (issue 18): time limits, namespace
and document limits, NUL, Int64, index creation only by writes, workers racing.

The first group runs here, on mongomock or a real pymongo client pointed at a
closed port; the second needs a real mongod (``BACKDROP_TEST_MONGODB_URL``)
and is skipped without one.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from datetime import UTC, datetime, timedelta

import bson
import mongomock
import pymongo
import pytest
from bson.int64 import Int64
from pymongo.errors import ConfigurationError, ExecutionTimeout, OperationFailure

from backdrop.core.catalog import Catalog
from backdrop.core.data_sets import Registry
from backdrop.core.query import Collect, PrefixFilter, Where
from backdrop.core.storage.mongodb import MongoEngine
from backdrop.core.storage.mongodb.capping import SIZES
from backdrop.core.storage.mongodb.failures import UnsupportedServer, translate
from backdrop.errors import BadRequest, InvalidQuery, StorageUnavailable
from backdrop.transformers import config as transforms
from tests.core.storage.contract import UPDATED, config, ids, record
from tests.mongodb_recording import Call

REAL_SERVER = os.environ.get("BACKDROP_TEST_MONGODB_URL")
needs_real_server = pytest.mark.skipif(
    not REAL_SERVER, reason="needs a real mongod: set BACKDROP_TEST_MONGODB_URL"
)


@pytest.fixture
def mock_client():
    return mongomock.MongoClient(tz_aware=True)


def _engine(client, database: str = "backdrop_limits") -> MongoEngine:
    return MongoEngine(f"mongodb://localhost:27017/{database}", client=client)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("limit", ["", "&timeoutMS=2000"])
def test_a_replica_set_whose_server_is_gone_answers_a_write_with_503_in_5_s(limit):
    url = f"mongodb://127.0.0.1:{_closed_port()}/backdrop?replicaSet=rs0{limit}"
    client = pymongo.MongoClient(url, serverSelectionTimeoutMS=500, connectTimeoutMS=500)
    engine = MongoEngine(url, client=client)
    engine.connection.transactions = True  # as learnt from the set before the outage
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as raised:
        engine.records.save("visits", [record("a", n=1)])
    assert time.monotonic() - started < 5
    assert raised.value.status == 503 and "MongoDB" in raised.value.message
    client.close()


def test_timeouts_too_large_results_and_old_servers_become_clear_errors():
    timeout = translate(ExecutionTimeout("operation exceeded time limit", 50))
    assert isinstance(timeout, StorageUnavailable) and "in time" in timeout.message
    too_big = OperationFailure("BSONObj size is invalid", 10334, {"codeName": "BSONObjectTooLarge"})
    assert isinstance(translate(too_big), BadRequest) and translate(too_big).status == 400
    memory = OperationFailure("$addToSet used too much memory", 146, {})
    assert "16 MB" in translate(memory).message
    old = ConfigurationError("Server reports wire version 8, but this version requires 9")
    assert isinstance(translate(old), UnsupportedServer)
    assert "4.4" in translate(old).message


def test_a_server_older_than_4_4_is_refused_at_the_first_operation(monkeypatch):
    """A 4.2 server's hello (wire version 8): a clear 500, not a 503 to retry."""
    engine = MongoEngine(f"mongodb://127.0.0.1:{_closed_port()}/backdrop?timeoutMS=2000")
    hello = {"maxWireVersion": 8, "setName": "rs0"}
    monkeypatch.setattr(engine.connection, "server_status", lambda: hello)
    for operation in (engine.ping, lambda: engine.records.count("visits")):
        with pytest.raises(UnsupportedServer) as raised:
            operation()
        assert raised.value.status == 500 and "older than 4.4" in raised.value.message
    engine.close()


def test_the_recorder_catches_what_mongodb_4_4_would_refuse():
    call = Call("db.visits", "aggregate", ([{"$sort": {"a": 1}}, {"$getField": "x"}],), {})
    assert len(call.problems()) == 2
    assert Call("db." + "x" * 260, "find", ({"a": {"$regex": "^\0"}},), {}).problems()


def test_a_name_too_long_for_the_namespace_is_a_400_and_stores_nothing(mock_client):
    engine = _engine(mock_client)
    assert engine.records.max_name_bytes == 235 - len("backdrop_limits.")
    name = "a" * (engine.records.max_name_bytes + 1)
    with pytest.raises(BadRequest) as raised:
        Catalog(engine).create(config(name))
    assert raised.value.status == 400 and "too long" in raised.value.message
    assert Catalog(engine).get(name) is None and Catalog(engine).list() == []
    Catalog(engine).create(config("a" * engine.records.max_name_bytes))


def test_a_transform_whose_output_name_would_be_too_long_is_a_400(mock_client):
    engine = _engine(mock_client)
    Registry(engine).create({"name": "visits"})
    body = {"type": "user_satisfaction", "query": {"group_by": ["service"]}}
    room = engine.records.max_name_bytes - 1  # the output is named "<group>_<type>"
    fits = {"data_group": "g" * (room - 100), "data_type": "t" * 100}
    transforms.add(engine, "visits", {**body, "output": fits})
    too_long = {"data_group": "g" * (room - 99), "data_type": "t" * 100}
    with pytest.raises(BadRequest) as raised:
        transforms.add(engine, "visits", {**body, "output": too_long})
    assert raised.value.status == 400 and "shorter output data_group" in raised.value.message
    assert len(transforms.list_for(engine, "visits")) == 1


def test_a_nul_in_a_prefix_is_a_400(mock_client):
    engine = _engine(mock_client)
    Catalog(engine).create(config("visits"))
    with pytest.raises(InvalidQuery) as raised:
        engine.records.find("visits", Where(prefixes=(PrefixFilter("kind", "a\0"),)))
    assert "NUL" in raised.value.message


def test_64_bit_integers_come_back_as_int(mock_client):
    engine = _engine(mock_client)
    Catalog(engine).create(config("visits"))
    mock_client["backdrop_limits"]["visits"].insert_one(
        {"_id": "a", "_updated_at": datetime(2024, 1, 1, tzinfo=UTC), "n": Int64(2**40)}
    )
    got = engine.records.get("visits", "a")
    (row,) = engine.records.aggregate("visits", Where(), (), None, (Collect("n", "sum"),))
    assert type(got["n"]) is int and got["n"] == 2**40
    assert type(row["n:sum"]) is int


def test_reads_never_create_collections_or_indexes(mock_client):
    engine = _engine(mock_client)
    engine.records.find("ghost", Where())
    engine.records.aggregate("ghost", Where(), ("a",), None, ())
    engine.records.get("ghost", "a")
    engine.records.count("ghost")
    engine.records.last_updated("ghost")
    engine.documents.get("dashboard", "x")
    engine.documents.list("dashboard")
    assert mock_client["backdrop_limits"].list_collection_names() == []


def _index_keys(client, name: str) -> list[list[str]]:
    info = client["backdrop_limits"][name].index_information().values()
    return [[key for key, _ in index["key"]] for index in info]


@pytest.mark.parametrize("stale_write", [False, True])
def test_two_workers_delete_recreate_and_save(mock_client, stale_write):
    """Two engines on one client stand in for two gunicorn workers."""
    first, second = _engine(mock_client), _engine(mock_client)
    Catalog(first).create(config("visits"))
    first.records.save("visits", [record("old", n=1)])
    Catalog(second).delete("visits")
    if stale_write:  # a request of the first worker that raced the deletion
        first.records.save("visits", [record("late", n=2)])
    Catalog(second).create(config("visits"))
    first.records.save("visits", [record("new", n=3)])
    assert ids(second.records.find("visits", Where())) == ["new"]
    assert ["_timestamp", "_id"] in _index_keys(mock_client, "visits")
    assert ["_updated_at", "_id"] in _index_keys(mock_client, "visits")


# --- on a real server only ---


@pytest.fixture
def real():
    name = f"backdrop_test_{secrets.token_hex(6)}"
    admin = pymongo.MongoClient(REAL_SERVER)
    parts = REAL_SERVER.split("?", 1)
    base = parts[0].rsplit("/", 1)[0] if parts[0].count("/") > 2 else parts[0].rstrip("/")
    query = f"?{parts[1]}" if len(parts) > 1 else ""
    engine = MongoEngine(f"{base}/{name}{query}")
    yield engine, admin, f"{base}/{name}", query
    engine.close()
    admin.drop_database(name)
    admin.close()


def _joined(base: str, query: str, option: str) -> str:
    return f"{base}{query}&{option}" if query else f"{base}?{option}"


@needs_real_server
def test_real_a_capped_save_with_a_secondary_read_preference(real):
    engine, _, base, query = real
    Catalog(engine).create(config("capped"))
    reader = MongoEngine(_joined(base, query, "readPreference=secondaryPreferred"))
    reader.records.save("capped", [record(f"r{i}", n=i) for i in range(10)], capped_size=300)
    assert 0 < engine.records.count("capped") < 10
    reader.close()


@needs_real_server
def test_real_a_nul_prefix_and_a_250_character_name_are_4xx(real):
    engine = real[0]
    Catalog(engine).create(config("visits"))
    with pytest.raises(InvalidQuery):
        engine.records.find("visits", Where(prefixes=(PrefixFilter("kind", "\0"),)))
    with pytest.raises(BadRequest):
        Catalog(engine).create(config("n" * 250))


@needs_real_server
def test_real_2_to_the_40_round_trips_as_int_and_find_uses_the_timestamp_index(real):
    engine, admin = real[0], real[1]
    Catalog(engine).create(config("visits"))
    engine.records.save("visits", [record("a", "2024-01-01T00:00:00", n=2**40)])
    assert type(engine.records.get("visits", "a")["n"]) is int
    plan = admin[engine.database_name]["visits"].find().sort("_timestamp", 1).explain()
    assert "_timestamp_1__id_1" in str(plan["queryPlanner"]["winningPlan"])


@needs_real_server
def test_real_a_set_collect_over_500k_distinct_values_is_a_400(real):
    engine = real[0]
    Catalog(engine).create(config("wide"))
    for start in range(0, 500_001, 50_000):
        engine.records.save(
            "wide", [record(f"r{i}", v="x" * 40 + str(i)) for i in range(start, start + 50_000)]
        )
    with pytest.raises(BadRequest):
        engine.records.aggregate("wide", Where(), (), None, (Collect("v", "set"),))


@needs_real_server
def test_real_a_read_only_user_can_read(real):
    engine, admin, base, query = real
    Catalog(engine).create(config("visits"))
    engine.records.save("visits", [record("a", n=1)])
    user = f"reader_{secrets.token_hex(4)}"
    admin[engine.database_name].command(
        "createUser", user, pwd="pw", roles=[{"role": "read", "db": engine.database_name}]
    )
    host = base.split("://", 1)[1]
    url = _joined(f"mongodb://{user}:pw@{host}", query, f"authSource={engine.database_name}")
    reader = MongoEngine(url)
    assert ids(reader.records.find("visits", Where())) == ["a"]
    assert reader.records.count("other") == 0
    reader.close()


def _stored_bytes(admin, database: str, name: str) -> int:
    rows = admin[database][name].aggregate(
        [{"$group": {"_id": None, "bytes": {"$sum": {"$bsonSize": "$$ROOT"}}}}]
    )
    return next(iter(rows), {"bytes": 0})["bytes"]


def _counted_bytes(admin, database: str, name: str) -> int | None:
    stored = admin[database][SIZES].find_one({"_id": name})
    return None if stored is None else stored["bytes"]


@needs_real_server
def test_real_the_byte_counter_is_what_the_server_counts(real):
    engine, admin = real[0], real[1]
    database = engine.database_name
    Catalog(engine).create(config("capped"))
    cap = 10**6
    engine.records.save("capped", [record(f"r{i}", n=i) for i in range(20)], capped_size=cap)
    engine.records.save("capped", [record("r1", n="longer"), record("r1", n=1)], capped_size=cap)
    engine.records.delete("capped", "r2")
    assert _counted_bytes(admin, database, "capped") == _stored_bytes(admin, database, "capped")
    engine.records.empty("capped")
    assert _counted_bytes(admin, database, "capped") == 0


@needs_real_server
def test_real_a_capped_save_on_a_million_records_is_well_under_60_s(real):
    """60 s is a transaction's lifetime on the server: a capped save must not
    grow with the data set. The first capped save starts the byte counter
    with one scan; the next ones read their batch and what they trim."""
    engine, admin = real[0], real[1]
    Catalog(engine).create(config("big"))
    collection = admin[engine.database_name]["big"]
    one = record("r0000000", "2024-01-01T00:00:00", n=1)
    for start in range(0, 10**6, 50_000):
        collection.insert_many(
            [
                {**one, "_id": f"r{i:07}", "_updated_at": UPDATED + timedelta(seconds=i)}
                for i in range(start, start + 50_000)
            ],
            ordered=False,
        )
    cap = 10**6 * len(bson.encode(one))
    later = UPDATED + timedelta(days=30)
    timings = []
    for batch in range(2):
        new = [
            record(f"n{batch}{i:06}", "2024-01-01T00:00:00", n=1, updated_at=later)
            for i in range(100)
        ]
        started = time.monotonic()
        engine.records.save("big", new, capped_size=cap)
        timings.append(time.monotonic() - started)
    assert engine.records.count("big") == 10**6
    assert engine.records.get("big", "r0000199") is None
    assert engine.records.get("big", "r0000200") is not None
    assert timings[0] < 60 and timings[1] < 10, timings
