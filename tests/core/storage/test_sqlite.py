"""SQLite-only behaviour: URLs and files, WAL and locking, failures that become
503s, several threads and processes on one file, and query plans that use
the ``_timestamp`` index. The engine contract itself is in test_contract_*."""

from __future__ import annotations

import multiprocessing
import os
import random
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest

from backdrop.core import rollups
from backdrop.core.catalog import Catalog
from backdrop.core.periods import PERIOD_KEYS, period_keys
from backdrop.core.query import Collect, Where
from backdrop.core.rollups import RollupSpec
from backdrop.core.storage import open_engine
from backdrop.core.storage.sqlite import SQLiteEngine
from backdrop.core.storage.sqlite import connection as connection_module
from backdrop.errors import InvalidRecords, StorageUnavailable
from tests.core.storage.contract import at, config, ids, record, returned


@pytest.fixture
def path(tmp_path):
    return tmp_path / "store.db"


@pytest.fixture
def engine(path):
    engine = SQLiteEngine(f"sqlite:///{path}")
    yield engine
    engine.close()


def test_absolute_url_creates_missing_parent_directories(tmp_path):
    target = tmp_path / "deep" / "er" / "backdrop.db"
    engine = open_engine(f"sqlite:///{target}")  # sqlite:////tmp/… : four slashes
    assert isinstance(engine, SQLiteEngine)
    Catalog(engine).create(config("made"))
    engine.close()
    assert target.is_file()


def test_relative_url_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine = SQLiteEngine("sqlite:///var/sub/backdrop.db")
    engine.ping()
    engine.close()
    assert (tmp_path / "var" / "sub" / "backdrop.db").is_file()


def test_nothing_is_opened_before_first_use(tmp_path):
    """Apps build their engine before gunicorn forks: no file, no connection yet."""
    target = tmp_path / "later" / "backdrop.db"
    engine = SQLiteEngine(f"sqlite:///{target}")
    assert not target.parent.exists()
    engine.ping()
    assert target.is_file()
    engine.close()


def test_a_url_without_a_path_is_refused():
    with pytest.raises(ValueError, match="sqlite:///"):
        SQLiteEngine("sqlite:///")


def test_the_file_is_in_wal_mode_with_the_schema(engine, path):
    engine.ping()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert "documents" in tables
    assert not {"data_sets", "transforms"} & tables  # configs are documents now


def test_commits_are_fsynced_before_a_write_returns(engine):
    """synchronous is per connection: check the engine's own (2 = FULL)."""
    engine.ping()
    assert engine.connections.connection().execute("PRAGMA synchronous").fetchone()[0] == 2


def test_another_engine_on_the_same_file_sees_everything(engine, path):
    Catalog(engine).create(config("shared"))
    engine.records.save("shared", [record("a", "2024-01-01T00:00:00", n=1)])
    other = SQLiteEngine(f"sqlite:///{path}")
    assert Catalog(other).get("shared") == config("shared")
    assert other.records.find("shared", Where()) == [
        returned(record("a", "2024-01-01T00:00:00", n=1))
    ]
    other.close()


def test_records_of_a_data_set_never_written_read_as_empty(engine):
    assert engine.records.find("never-written", Where()) == []
    assert engine.records.aggregate("never-written", Where(), ("x",), "week", ()) == []
    assert engine.records.get("never-written", "a") is None
    assert engine.records.last_updated("never-written") is None
    assert engine.records.delete("never-written", "a") is False
    engine.records.empty("never-written")


def test_a_records_table_is_created_on_first_write_if_missing(engine):
    engine.records.save("no-config-yet", [record("a", n=1)])
    assert engine.records.get("no-config-yet", "a")["n"] == 1


def test_a_failure_in_the_middle_of_a_batch_rolls_it_back(engine):
    Catalog(engine).create(config("atomic"))
    engine.records.save("atomic", [record("kept", n=1)])
    batch = [
        record("kept", n=2),
        record("new", n=3),
        {**record("broken", n=4), "_updated_at": None},
    ]
    with pytest.raises(sqlite3.IntegrityError):  # _updated_at is NOT NULL
        engine.records.save("atomic", batch)
    assert engine.records.find("atomic", Where()) == [returned(record("kept", n=1))]
    engine.records.save("atomic", batch[:2])  # the connection is usable afterwards
    assert ids(engine.records.find("atomic", Where())) == ["kept", "new"]


def test_a_directory_where_the_file_should_be_is_unavailable(tmp_path):
    engine = SQLiteEngine(f"sqlite:///{tmp_path}")
    with pytest.raises(StorageUnavailable):
        engine.ping()


def test_a_parent_that_is_a_file_is_unavailable(tmp_path):
    (tmp_path / "plain-file").write_text("not a directory")
    engine = SQLiteEngine(f"sqlite:///{tmp_path}/plain-file/backdrop.db")
    with pytest.raises(StorageUnavailable):
        Catalog(engine).list()


def test_a_file_that_is_not_a_database_is_unavailable(path):
    path.write_bytes(b"this is certainly not an SQLite database file" * 100)
    engine = SQLiteEngine(f"sqlite:///{path}")
    with pytest.raises(StorageUnavailable):
        engine.ping()


def test_a_lock_held_past_the_busy_timeout_is_unavailable_then_recovers(engine, path, monkeypatch):
    Catalog(engine).create(config("busy"))
    engine.close()
    monkeypatch.setattr(connection_module, "BUSY_TIMEOUT_SECONDS", 0.2)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageUnavailable):
            engine.records.save("busy", [record("a", n=1)])
        assert Catalog(engine).get("busy") is not None  # readers are not blocked (WAL)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    engine.records.save("busy", [record("a", n=1)])
    assert engine.records.get("busy", "a")["n"] == 1


def test_close_releases_connections_and_the_engine_reopens(engine):
    Catalog(engine).create(config("reopen"))
    engine.close()
    engine.close()
    assert Catalog(engine).get("reopen") is not None


def test_threads_write_and_read_concurrently(engine):
    Catalog(engine).create(config("threads"))
    errors = []

    def work(worker: int) -> None:
        try:
            for batch in range(20):
                engine.records.save(
                    "threads", [record(f"{worker}-{batch}-{i}", n=i) for i in range(5)]
                )
                engine.records.find("threads", Where(), limit=10)
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(engine.records.find("threads", Where())) == 4 * 20 * 5


def _open_files_of(path) -> int:
    fds = os.listdir("/proc/self/fd")
    links = [os.path.realpath(f"/proc/self/fd/{fd}") for fd in fds]
    return sum(1 for link in links if link.startswith(str(path)))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count open files")
def test_connections_of_finished_threads_are_closed(engine, path):
    """A server starting a thread per request must not leak a connection each."""
    engine.ping()
    for _ in range(30):
        thread = threading.Thread(target=engine.ping)
        thread.start()
        thread.join(timeout=10)
    engine.ping()
    # two connections at most (db, -wal and -shm files), and the descriptor
    # that watches the file for deletion
    assert _open_files_of(path) <= 2 * 3 + 1


def _write_from_child(url: str, worker: int) -> None:
    engine = SQLiteEngine(url)
    for batch in range(15):
        engine.records.save("processes", [record(f"{worker}-{batch}-{i}", n=i) for i in range(10)])
    engine.close()


def _write_with_inherited_engine(engine: SQLiteEngine, worker: int) -> None:
    for batch in range(15):
        engine.records.save(
            "processes", [record(f"inherited-{worker}-{batch}-{i}", n=i) for i in range(10)]
        )


@pytest.mark.slow
# Python 3.12+ warns about fork() with threads alive; gunicorn forks all the same.
@pytest.mark.filterwarnings("ignore:This process .* use of fork:DeprecationWarning")
def test_several_processes_write_one_file_safely(engine, path):
    """As gunicorn workers do: some open their own engine, some inherit one
    (already connected) across fork and must open fresh connections."""
    Catalog(engine).create(config("processes"))
    engine.ping()  # the parent holds a connection when it forks
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_write_from_child, args=(f"sqlite:///{path}", w)) for w in range(2)
    ] + [context.Process(target=_write_with_inherited_engine, args=(engine, w)) for w in range(2)]
    for child in children:
        child.start()
    try:
        for child in children:
            child.join(timeout=60)
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
                child.join()
    assert [child.exitcode for child in children] == [0, 0, 0, 0]
    assert len(engine.records.find("processes", Where())) == 4 * 15 * 10


# --- query plans: a query's cost grows with what it matches (SPEC 9) ---


def _plan_of(engine: SQLiteEngine, path, run) -> list[str]:
    """The query plan of the one statement ``run`` sends, read on a second
    connection. The trace hook needs this thread's connection: a private
    attribute, acceptable in an engine-specific test."""
    statements: list[str] = []
    connection = engine.connections.connection()
    connection.set_trace_callback(statements.append)
    try:
        run()
    finally:
        connection.set_trace_callback(None)
    (statement,) = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    with sqlite3.connect(path) as raw:
        return [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + statement)]


@pytest.fixture
def year_of_records(engine):
    Catalog(engine).create(config("plans"))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    engine.records.save(
        "plans",
        [
            record(
                f"r{i}",
                (start + timedelta(hours=3 * i)).isoformat(),
                region=f"r{i % 5}",
                n=i,
            )
            for i in range(2920)
        ],
    )
    return engine


def test_a_seven_day_aggregate_searches_the_timestamp_index(year_of_records, path):
    week = Where(start=at("2024-06-03T00:00:00"), end=at("2024-06-10T00:00:00"))

    def run():
        rows = year_of_records.records.aggregate(
            "plans", week, ("region",), "day", (Collect("n", "sum"), Collect("n", "set"))
        )
        assert sum(row["_count"] for row in rows) == 7 * 8

    plan = _plan_of(year_of_records, path, run)
    assert any(
        step.startswith("SEARCH records_plans USING INDEX records_plans:timestamp")
        and "_timestamp>" in step
        for step in plan
    ), plan
    assert not any(step.startswith("SCAN records_plans") for step in plan), plan


def test_a_time_range_find_searches_the_timestamp_index(year_of_records, path):
    week = Where(start=at("2024-06-03T00:00:00"), end=at("2024-06-10T00:00:00"))
    plan = _plan_of(year_of_records, path, lambda: year_of_records.records.find("plans", week))
    assert any(step.startswith("SEARCH") and "records_plans:timestamp" in step for step in plan)
    assert not any(step.startswith("SCAN records_plans") for step in plan), plan
    # The default order (_timestamp, _id) is the index order: no sorting step.
    assert not any("TEMP B-TREE" in step for step in plan), plan


def test_period_columns_are_the_period_starts_of_the_timestamp(engine, path):
    """The ingest path derives period columns per day of the batch; they must
    equal ``period_keys`` everywhere, before 1970 and at year ends included."""
    rng = random.Random(7)
    moments = [
        "1969-12-31T23:59:59.999",
        "1970-01-01T00:00:00",
        "2024-02-29T23:30:00",
        "2024-12-31T23:59:59",
        "2025-01-01T00:00:00",
        "2023-01-01T12:00:00",  # a Sunday: its week starts in 2022
    ] + [
        (datetime(1990, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**9))).isoformat()
        for _ in range(300)
    ]
    Catalog(engine).create(config("periods"))
    engine.records.save("periods", [record(f"r{i}", m) for i, m in enumerate(moments)])
    with sqlite3.connect(path) as raw:
        stored = raw.execute(
            f'SELECT _id, {", ".join(PERIOD_KEYS)} FROM "records_periods"'  # noqa: S608
        ).fetchall()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for record_id, *starts in stored:
        expected = period_keys(at(moments[int(record_id[1:])]))
        assert [epoch + timedelta(microseconds=s) for s in starts] == [
            expected[key] for key in PERIOD_KEYS
        ]
    assert len(stored) == len(moments)


def test_values_json_cannot_hold_are_invalid_records_and_nothing_is_stored(engine):
    Catalog(engine).create(config("odd-values"))
    batch = [record("fine", n=1), record("huge", n=2**70), record("lone", text="\ud800")]
    with pytest.raises(InvalidRecords) as caught:
        engine.records.save("odd-values", batch)
    assert [m.split(" (")[0] for m in caught.value.messages] == [
        "record 1: n cannot be stored",
        "record 2: text cannot be stored",
    ]
    assert engine.records.find("odd-values", Where()) == []


def test_documents_live_in_one_table_keyed_by_kind_and_id(engine, path):
    engine.documents.put("dashboard", "d", {"n": 1})
    engine.documents.put("dashboard", "d", {"n": 2})
    with sqlite3.connect(path) as raw:
        columns = [(row[1], row[2], row[5]) for row in raw.execute("PRAGMA table_info(documents)")]
        stored = raw.execute("SELECT kind, id, version, body FROM documents").fetchall()
    assert columns == [
        ("kind", "TEXT", 1),
        ("id", "TEXT", 2),
        ("version", "INTEGER", 0),
        ("updated_at", "INTEGER", 0),
        ("body", "TEXT", 0),
    ]
    assert stored == [("dashboard", "d", 2, '{"n":2}')]


def test_a_document_body_with_a_datetime_is_refused_and_nothing_is_stored(engine):
    """Bodies are JSON: times are stored as ISO strings by the caller."""
    with pytest.raises(TypeError):
        engine.documents.put("upload", "u", {"at": datetime(2024, 1, 1, tzinfo=UTC)})
    assert engine.documents.get("upload", "u") is None


def test_a_rollup_reset_after_the_state_was_read_is_a_503_not_a_wrong_answer(engine):
    engine.records.create("rolled")
    engine.records.save("rolled", [record("a", "2024-01-01T00:00:00", region="north", n=1)])
    engine.records.set_rollup("rolled", RollupSpec(((), ("region",)), ("n",)))
    engine.records.build_rollup("rolled")
    state = engine.records.state("rolled")
    engine.records.set_rollup("rolled", RollupSpec(((), ("other",)), ("n",)))
    with pytest.raises(StorageUnavailable, match="changed while the query ran"):
        rollups.aggregate(
            engine.records, "rolled", Where(), ("region",), None, (Collect("n", "sum"),), state
        )


def test_a_sum_beyond_64_bits_marks_the_rollup_not_ready_and_the_write_succeeds(engine):
    engine.records.create("rolled")
    engine.records.set_rollup("rolled", RollupSpec(((),), ("n",)))
    engine.records.build_rollup("rolled")
    big = [record(f"b{i}", "2024-01-01T00:00:00", n=2**62) for i in range(2)]
    engine.records.save("rolled", big)
    assert engine.records.count("rolled") == 2
    assert not engine.records.state("rolled").ready
    assert engine.records.build_rollup("rolled") is False
