"""MongoDB-only behaviour of MongoEngine: layout, indexes, BSON limits, connection
handling. The engine contract itself is in test_contract_*.

Runs on mongomock (an in-process stand-in) unless ``BACKDROP_TEST_MONGODB_URL``
names a real mongod; tests that need a real server say so when skipped.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
import warnings
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import bson
import mongomock
import pymongo
import pytest
from pymongo import monitoring

from backdrop.core.catalog import Catalog
from backdrop.core.periods import PERIOD_KEYS, period_keys
from backdrop.core.query import Collect, Filter, Sort, Where
from backdrop.core.storage import open_engine
from backdrop.core.storage.mongodb import MongoEngine
from backdrop.errors import InvalidRecords, StorageUnavailable

REAL_SERVER = os.environ.get("BACKDROP_TEST_MONGODB_URL")
# Nothing listens on port 1; a short selection timeout keeps these tests fast.
UNREACHABLE = "mongodb://127.0.0.1:1/backdrop?serverSelectionTimeoutMS=200"
needs_real_server = pytest.mark.skipif(
    not REAL_SERVER, reason="needs a real mongod: set BACKDROP_TEST_MONGODB_URL"
)


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@pytest.fixture
def mongo():
    """This module's engine plus a handle on its raw database, to look inside."""
    name = f"backdrop_test_{secrets.token_hex(6)}"
    if REAL_SERVER is None:
        client = mongomock.MongoClient(tz_aware=True)
        engine = MongoEngine(f"mongodb://localhost:27017/{name}", client=client)
    else:
        client = pymongo.MongoClient(REAL_SERVER, tz_aware=True)
        engine = MongoEngine(_with_database(REAL_SERVER, name))
    yield SimpleNamespace(engine=engine, db=client[name])
    engine.close()
    client.drop_database(name)
    client.close()


def _config(name: str) -> dict:
    return {"name": name, "data_group": name, "data_type": name}


def _record(record_id: str, timestamp: datetime | None = None, **fields) -> dict:
    record = {"_id": record_id, "_updated_at": datetime(2024, 5, 1, tzinfo=UTC), **fields}
    if timestamp is not None:
        record["_timestamp"] = timestamp
        record.update(period_keys(timestamp))
    return record


def test_records_live_in_a_collection_named_after_the_data_set(mongo):
    Catalog(mongo.engine).create(_config("visits"))
    moment = datetime(2024, 5, 8, 13, 30, tzinfo=UTC)
    mongo.engine.records.save("visits", [_record("a", moment, count=3)])

    assert "_backdrop_documents" in mongo.db.list_collection_names()
    stored = mongo.db["visits"].find_one({"_id": "a"})
    assert stored["count"] == 3
    assert stored["_timestamp"] == moment
    assert stored["_week_start_at"] == datetime(2024, 5, 6, tzinfo=UTC)
    assert all(isinstance(stored[key], datetime) for key in PERIOD_KEYS)
    assert "_week_start_at" not in mongo.engine.records.get("visits", "a")


def test_creating_a_data_set_creates_its_indexes(mongo):
    Catalog(mongo.engine).create(_config("visits"))

    record_indexes = [
        [k for k, _ in i["key"]] for i in mongo.db["visits"].index_information().values()
    ]
    assert ["_timestamp", "_id"] in record_indexes
    assert ["_updated_at", "_id"] in record_indexes
    for key in PERIOD_KEYS:
        assert [key] in record_indexes
    documents = mongo.db["_backdrop_documents"].index_information().values()
    assert ["_id.kind", "_id.id"] in [[k for k, _ in i["key"]] for i in documents]


def test_deleting_a_data_set_drops_its_collection(mongo):
    Catalog(mongo.engine).create(_config("visits"))
    mongo.engine.records.save("visits", [_record("a")])

    assert Catalog(mongo.engine).delete("visits") is True
    assert "visits" not in mongo.db.list_collection_names()


def test_json_schema_keys_that_are_not_bson_field_names_round_trip(mongo):
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {"a.b": {"type": "string"}},
        "properties": {"x": {"$ref": "#/definitions/a.b"}},
    }
    config = {**_config("visits"), "schema": schema}
    Catalog(mongo.engine).create(config)

    assert Catalog(mongo.engine).get("visits") == config
    assert Catalog(mongo.engine).find("visits", "visits") == config
    assert Catalog(mongo.engine).list() == [config]


def test_transform_options_with_dotted_and_dollar_keys_round_trip(mongo):
    Catalog(mongo.engine).create(_config("visits"))
    transform = {"type": "mapping", "options": {"mapping": {"a.b": "c", "$d": "e"}}}

    first = Catalog(mongo.engine).add_transform("visits", transform)
    second = Catalog(mongo.engine).add_transform("visits", {"type": "rate"})

    assert Catalog(mongo.engine).list_transforms("visits") == [
        {**transform, "id": first},
        {"type": "rate", "id": second},
    ]
    assert Catalog(mongo.engine).remove_transform("visits", f" {first}") is False


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("mongodb://db.example:27017/performance", "performance"),
        ("mongodb://db.example:27017/", "backdrop"),
        ("mongodb://db.example", "backdrop"),
        ("mongodb://u:p@a:1,b:2/stats?replicaSet=rs0", "stats"),
        ("mongodb+srv://cluster.example/perf%2Ddata?retryWrites=true", "perf-data"),
    ],
)
def test_the_database_name_comes_from_the_url_path(url, database):
    assert MongoEngine(url).database_name == database


def test_an_integer_beyond_64_bits_rejects_the_whole_batch(mongo):
    Catalog(mongo.engine).create(_config("visits"))

    with pytest.raises(InvalidRecords) as raised:
        mongo.engine.records.save("visits", [_record("ok", n=1), _record("big", n=2**63)])

    assert raised.value.messages == [
        "record 2: n cannot be stored (MongoDB can only handle up to 8-byte ints)"
    ]
    assert mongo.engine.records.find("visits", Where()) == []


def test_a_number_filter_never_matches_a_boolean(mongo):
    Catalog(mongo.engine).create(_config("flags"))
    mongo.engine.records.save(
        "flags", [_record("int", v=1), _record("float", v=1.0), _record("bool", v=True)]
    )

    ones = mongo.engine.records.find("flags", Where(filters=(Filter("v", "1"),)))
    trues = mongo.engine.records.find("flags", Where(filters=(Filter("v", "true"),)))

    assert [r["_id"] for r in ones] == ["float", "int"]
    assert [r["_id"] for r in trues] == ["bool"]


def test_capped_size_counts_bson_bytes_and_keeps_the_newest(mongo):
    Catalog(mongo.engine).create(_config("capped"))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    records = [
        {**_record(f"r{i}", v="x" * 50), "_updated_at": start + timedelta(minutes=i)}
        for i in range(6)
    ]
    three = sum(len(bson.encode(record)) for record in records[3:])

    mongo.engine.records.save("capped", records[:4])
    mongo.engine.records.save("capped", records[4:], capped_size=three)

    kept = mongo.engine.records.find("capped", Where())
    assert sorted(r["_id"] for r in kept) == ["r3", "r4", "r5"]


@pytest.mark.skipif(REAL_SERVER is not None, reason="about mongomock clients only")
def test_times_are_utc_even_from_a_client_without_tz_aware():
    engine = MongoEngine("mongodb://localhost/naive", client=mongomock.MongoClient())
    moment = datetime(2024, 5, 8, 13, 30, tzinfo=UTC)
    Catalog(engine).create(_config("visits"))
    engine.records.save("visits", [_record("a", moment, kind="x")])

    (record,) = engine.records.find("visits", Where())
    (row,) = engine.records.aggregate("visits", Where(), ("kind",), "day", (Collect("_timestamp"),))

    assert record["_timestamp"] == moment and record["_timestamp"].tzinfo is UTC
    assert record["_updated_at"].tzinfo is UTC
    assert row["_start_at"] == datetime(2024, 5, 8, tzinfo=UTC)
    assert row["_start_at"].tzinfo is UTC
    assert row["_timestamp:set"] == [moment]


@pytest.mark.parametrize(
    "call",
    [
        lambda engine: engine.ping(),
        lambda engine: Catalog(engine).list(),
        lambda engine: Catalog(engine).create(_config("visits")),
        lambda engine: engine.records.save("visits", [_record("a")]),
        lambda engine: engine.records.find("visits", Where()),
        lambda engine: engine.records.aggregate("visits", Where(), ("a",), None, ()),
        lambda engine: engine.records.last_updated("visits"),
    ],
)
def test_an_unreachable_server_is_storage_unavailable(call):
    engine = open_engine(UNREACHABLE)
    started = time.monotonic()

    with pytest.raises(StorageUnavailable) as raised:
        call(engine)

    assert time.monotonic() - started < 5
    assert raised.value.status == 503
    assert "MongoDB" in raised.value.message
    engine.close()


def test_an_unresolvable_srv_name_is_storage_unavailable():
    """Whether DNS says "no such name" or does not answer (connectTimeoutMS bounds it)."""
    engine = MongoEngine("mongodb+srv://backdrop-test.invalid/backdrop?connectTimeoutMS=2000")

    with pytest.raises(StorageUnavailable) as raised:
        Catalog(engine).list()

    assert raised.value.message.startswith("The database is unavailable (MongoDB: ")
    engine.close()


def test_a_closed_engine_reopens_on_next_use():
    engine = MongoEngine(UNREACHABLE)
    with pytest.raises(StorageUnavailable):
        engine.ping()
    engine.close()

    with pytest.raises(StorageUnavailable):  # not pymongo's "client is closed"
        engine.ping()
    engine.close()


def test_a_forked_child_opens_its_own_client():
    """pymongo clients are not fork-safe: the child must not use the parent's."""
    engine = MongoEngine(UNREACHABLE)
    parent_client = engine.connection.client()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads around
        pid = os.fork()
    if pid == 0:  # child: report through the exit code only
        os._exit(0 if engine.connection.client() is not parent_client else 1)
    deadline = time.monotonic() + 10
    while (status := os.waitpid(pid, os.WNOHANG)) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("forked child did not finish in 10 s")
        time.sleep(0.01)
    assert os.waitstatus_to_exitcode(status[1]) == 0
    assert engine.connection.client() is parent_client
    engine.close()


class _Recorder(monitoring.CommandListener):
    """Every command the client sends, for checking where work happens."""

    def __init__(self):
        self.commands: list[tuple[str, dict]] = []

    def started(self, event):
        self.commands.append((event.command_name, event.command))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture
def recorded():
    name = f"backdrop_test_{secrets.token_hex(6)}"
    recorder = _Recorder()
    client = pymongo.MongoClient(REAL_SERVER, tz_aware=True, event_listeners=[recorder])
    engine = MongoEngine(_with_database(REAL_SERVER, name), client=client)
    yield engine, recorder
    client.drop_database(name)
    client.close()


@needs_real_server
def test_grouping_runs_in_the_database(recorded):
    engine, recorder = recorded
    Catalog(engine).create(_config("visits"))
    engine.records.save("visits", [_record(str(i), kind=i % 2, v=i) for i in range(100)])
    recorder.commands.clear()

    rows = engine.records.aggregate("visits", Where(), ("kind",), None, (Collect("v", "sum"),))

    assert sorted((row["kind"], row["v:sum"]) for row in rows) == [(0, 2450), (1, 2500)]
    (command,) = [c for name, c in recorder.commands if name == "aggregate"]
    assert any("$group" in stage for stage in command["pipeline"])


@needs_real_server
def test_a_batch_on_a_replica_set_is_one_transaction(recorded):
    engine, recorder = recorded
    if not engine.connection.supports_transactions():
        pytest.skip("the server at BACKDROP_TEST_MONGODB_URL is standalone")
    Catalog(engine).create(_config("visits"))
    recorder.commands.clear()

    engine.records.save("visits", [_record("a"), _record("b")], capped_size=10_000)

    names = [name for name, _ in recorder.commands]
    assert "commitTransaction" in names
    assert all(
        command.get("startTransaction") or "txnNumber" in command
        for name, command in recorder.commands
        if name in ("update", "delete", "findAndModify", "aggregate")
    )
    # the byte counter moved in the same transaction
    assert "findAndModify" in names


def test_mixed_types_sort_as_bson_compares_them(mongo):
    """null (and missing), numbers, strings, then booleans: docs/api.md. On
    mongomock this checks the engine's sort spec; a real mongod orders by BSON."""
    Catalog(mongo.engine).create(_config("mixed"))
    values = {"t": True, "f": False, "one": 1, "half": 2.5, "s": "x", "n": None}
    mongo.engine.records.save(
        "mixed", [_record("missing")] + [_record(k, v=v) for k, v in values.items()]
    )

    ascending = mongo.engine.records.find("mixed", Where(), Sort("v"))
    descending = mongo.engine.records.find("mixed", Where(), Sort("v", descending=True))

    assert [r["_id"] for r in ascending] == ["missing", "n", "one", "half", "s", "f", "t"]
    assert [r["_id"] for r in descending] == ["t", "f", "s", "half", "one", "missing", "n"]
