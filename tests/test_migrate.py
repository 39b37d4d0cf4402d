"""``backdrop migrate``: on MongoDB it builds what writes would build, so reads
never have to; elsewhere it has nothing to do.

The MongoDB cases run on mongomock, an in-process stand-in, handed to the
command in place of the engine BACKDROP_DATABASE_URL would open (mongomock
has no URL of its own); the unreachable-server case uses a real pymongo client.
"""

from __future__ import annotations

import time
from datetime import timedelta

import bson
import mongomock
import pytest
from click.testing import CliRunner

from backdrop import cli, command_line
from backdrop.core.catalog import Catalog
from backdrop.core.query import Where
from backdrop.core.storage.mongodb import MongoEngine
from backdrop.core.storage.mongodb.capping import SIZES
from tests.core.storage.contract import UPDATED, config, ids, record

DATABASE = "backdrop_migrate"
URL = f"mongodb://localhost:27017/{DATABASE}"


@pytest.fixture
def client():
    return mongomock.MongoClient(tz_aware=True)


@pytest.fixture
def mongo(client):
    return MongoEngine(URL, client=client)


@pytest.fixture
def migrate(monkeypatch, client):
    """Run ``backdrop migrate ARGS`` against the mongomock database."""

    def run(*args: str):
        monkeypatch.setattr(
            command_line, "open_engine", lambda url: MongoEngine(url, client=client)
        )
        result = CliRunner().invoke(
            cli.main, ["migrate", *args], env={"BACKDROP_DATABASE_URL": URL}
        )
        assert result.exit_code == 0, result.output
        return result.output

    return run


def _index_keys(client, name: str) -> list[list[str]]:
    info = client[DATABASE][name].index_information().values()
    return [[key for key, _ in index["key"]] for index in info]


def test_a_data_set_without_indexes_gets_them_and_keeps_its_records(mongo, client, migrate):
    Catalog(mongo).create(config("visits"))
    client[DATABASE]["visits"].drop_indexes()  # as an earlier version, or a restore, left it
    client[DATABASE]["visits"].insert_one(record("a", "2024-01-01T00:00:00", n=1))

    output = migrate()

    assert "[1/1] visits: built 8 indexes; not capped" in output
    assert ["_timestamp", "_id"] in _index_keys(client, "visits")
    assert ids(mongo.records.find("visits", Where())) == ["a"]
    assert "visits: indexes in place; not capped" in migrate()  # a second run changes nothing


def test_a_registered_data_set_without_a_collection_gets_one(mongo, client, migrate):
    Catalog(mongo).create(config("visits"))
    client[DATABASE].drop_collection("visits")

    assert "visits: created its collection, built 8 indexes" in migrate()
    assert "visits" in client[DATABASE].list_collection_names()


def test_a_capped_data_set_is_counted_and_trimmed_to_its_cap(mongo, client, migrate):
    padded = [
        record(f"r{i}", updated_at=UPDATED + timedelta(minutes=i), pad="x" * 200) for i in range(5)
    ]
    three = sum(len(bson.encode(r)) for r in padded[2:])
    Catalog(mongo).create(config("capped", capped_size=three))
    mongo.records.save("capped", padded)  # written uncapped: no counter

    output = migrate()

    assert f"capped: indexes in place; {three + 2 * len(bson.encode(padded[0]))} bytes" in output
    assert "trimmed" in output
    assert ids(mongo.records.find("capped", Where())) == ["r2", "r3", "r4"]
    assert client[DATABASE][SIZES].find_one({"_id": "capped"})["bytes"] == three


def test_collections_of_no_data_set_are_listed_and_dropped_only_when_asked(mongo, client, migrate):
    Catalog(mongo).create(config("visits"))
    client[DATABASE]["orphan"].insert_one({"_id": "x"})

    output = migrate()
    assert "orphan: belongs to no data set (1 records)" in output
    assert "_backdrop" not in output
    assert "done: 1 data sets, 1 leftover collections left in place" in output
    assert "orphan" in client[DATABASE].list_collection_names()

    assert "orphan: belonged to no data set, dropped" in migrate("--drop-leftovers")
    assert "orphan" not in client[DATABASE].list_collection_names()
    assert "visits" in client[DATABASE].list_collection_names()


def test_a_name_too_long_for_the_namespace_is_skipped_with_a_reason(mongo):
    lines: list[str] = []
    name = "n" * (mongo.records.max_name_bytes + 1)

    mongo.migrate([(name, 0)], lines.append)

    assert lines == [f"[1/1] {name}: skipped: the name is over the 218 bytes MongoDB can hold here"]


def test_on_sqlite_there_is_nothing_to_migrate(tmp_path):
    url = f"sqlite:///{tmp_path}/backdrop.db"
    result = CliRunner().invoke(cli.main, ["migrate"], env={"BACKDROP_DATABASE_URL": url})
    assert result.exit_code == 0
    assert "schema up to date, nothing to migrate" in result.output


def test_an_unreachable_mongodb_is_one_error_line_within_seconds():
    url = "mongodb://127.0.0.1:1/backdrop?serverSelectionTimeoutMS=300"
    started = time.monotonic()
    result = CliRunner().invoke(cli.main, ["migrate"], env={"BACKDROP_DATABASE_URL": url})
    assert result.exit_code == 1 and time.monotonic() - started < 5
    assert "Error: The database did not answer in time" in result.output
