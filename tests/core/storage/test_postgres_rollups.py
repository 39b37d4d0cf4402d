"""PostgreSQL-only behaviour of the data-set state and rollups: concurrent
writers keep the rollup exact, every write transaction bumps the version once,
emptied rollup rows are deleted, builds run outside the request time limits.
The engine-neutral contract is in test_contract_rollups.py.

Runs against the server on 127.0.0.1:5432 in a scratch database created and
dropped here; skipped with the reason when no server answers.
"""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from backdrop.core import rollups
from backdrop.core.periods import period_keys
from backdrop.core.query import Collect, Filter, Where
from backdrop.core.rollups import RollupSpec
from backdrop.core.storage.postgres import PostgresEngine
from backdrop.errors import StorageUnavailable

SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NAME = "rolled"
SPEC = RollupSpec(groups=((), ("region",), ("channel", "region")), measures=("visits", "rate"))
START = datetime(2024, 1, 1, tzinfo=UTC)
SHAPES = [
    (Where(), (), None, (Collect("visits", "sum"), Collect("rate", "mean"))),
    (Where(), ("region",), None, (Collect("visits", "sum"), Collect("visits", "count"))),
    (Where(), ("channel", "region"), "week", (Collect("rate", "sum"),)),
    (Where(filters=(Filter("channel", "web"),)), ("region",), "day", (Collect("visits", "mean"),)),
    (Where(start=START, end=START + timedelta(days=14)), ("region",), None, ()),
]


@pytest.fixture(scope="module")
def database_url():
    try:
        admin = psycopg.connect(SERVER_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {error}")
    name = f"backdrop_pgrollups_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database_url):
    engine = PostgresEngine(database_url)
    engine.records.create(NAME)
    engine.records.set_rollup(NAME, SPEC)
    assert engine.records.build_rollup(NAME)
    yield engine
    engine.records.drop(NAME)
    engine.close()


def _record(rng: random.Random, number: int) -> dict:
    timestamp = START + timedelta(hours=rng.randint(0, 24 * 30))
    record = {
        "_id": f"r{number}",
        "_updated_at": datetime.now(UTC),
        "_timestamp": timestamp,
        **period_keys(timestamp),
        "region": rng.choice(["north", "south", None, 1]),
        "channel": rng.choice(["web", "phone", True]),
        "visits": rng.choice([rng.randint(0, 9), None, 2**62]),
    }
    if rng.random() < 0.5:
        record["rate"] = rng.randint(0, 8) / 4
    return record


def _assert_rollup_answers_equal_records(engine: PostgresEngine) -> None:
    assert engine.records.state(NAME).ready
    for where, group_by, period, collects in SHAPES:
        args = (NAME, where, group_by, period, collects)
        from_rollup = rollups.aggregate(engine.records, *args)
        from_records = engine.records.aggregate(*args)
        assert sorted(map(repr, from_rollup)) == sorted(map(repr, from_records)), (group_by, period)


def _rollup_rows(database_url: str) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT grp, counters[1] FROM backdrop_rollups WHERE data_set = %s", (NAME,)
        ).fetchall()


def test_concurrent_writers_of_overlapping_ids_keep_the_rollup_exact(engine, database_url):
    failures: list[BaseException] = []
    versions_before = engine.records.state(NAME).version
    writes_done = [0]
    lock = threading.Lock()

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        own = PostgresEngine(database_url)
        try:
            for _ in range(15):
                batch = [_record(rng, rng.randint(0, 60)) for _ in range(rng.randint(1, 20))]
                if rng.random() < 0.2:
                    own.records.delete(NAME, f"r{rng.randint(0, 60)}")
                else:
                    own.records.save(NAME, batch, capped_size=rng.choice([0, 0, 0, 20_000]))
                with lock:
                    writes_done[0] += 1
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            failures.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert engine.records.state(NAME).version == versions_before + writes_done[0]
    _assert_rollup_answers_equal_records(engine)


def test_rows_whose_records_are_all_gone_are_deleted(engine, database_url):
    rng = random.Random(7)
    records = [_record(rng, n) for n in range(30)]
    engine.records.save(NAME, records)
    assert _rollup_rows(database_url)
    for record in records[:20]:
        assert engine.records.delete(NAME, record["_id"])
    engine.records.save(NAME, [{**r, "region": "moved"} for r in records[20:]])
    assert all(count > 0 for _, count in _rollup_rows(database_url))
    _assert_rollup_answers_equal_records(engine)
    engine.records.empty(NAME)
    assert _rollup_rows(database_url) == []


def test_a_build_runs_outside_the_request_time_limit(database_url):
    """A build of a large data set takes longer than a request may; the
    connection it uses is not cut by the engine's timeout (50 ms here)."""
    engine = PostgresEngine(database_url, timeout=0.05)
    try:
        with pytest.raises(StorageUnavailable), engine._connections.connection() as conn:
            conn.execute("SELECT pg_sleep(0.3)")
        with engine._connections.connection(unbounded=True) as conn:
            conn.execute("SELECT pg_sleep(0.3)")
        engine.records.create(NAME)
        engine.records.save(NAME, [_record(random.Random(3), n) for n in range(500)])
        engine.records.set_rollup(NAME, SPEC)
        assert engine.records.build_rollup(NAME)
        _assert_rollup_answers_equal_records(engine)
    finally:
        engine.records.drop(NAME)
        engine.close()


def test_a_nul_in_a_filter_matches_nothing_on_both_paths(engine):
    rng = random.Random(5)
    engine.records.save(NAME, [_record(rng, n) for n in range(10)])
    where = Where(filters=(Filter("region", "nor\x00th"),))
    args = (NAME, where, ("region",), None, ())
    assert rollups.aggregate(engine.records, *args) == engine.records.aggregate(*args) == []
