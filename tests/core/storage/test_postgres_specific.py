"""PostgreSQL-only behaviour of PostgresEngine: connection handling, recovery,
schema creation, SQL safety. The engine contract itself is in test_contract_*.

Runs against the server on 127.0.0.1:5432 (or $BACKDROP_TEST_POSTGRES_URL's
server) in a scratch database created and dropped here; skipped with the
reason when no server answers.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from backdrop.core.catalog import Catalog
from backdrop.core.periods import period_keys
from backdrop.core.query import Collect, Filter, PrefixFilter, Where
from backdrop.core.storage import open_engine
from backdrop.core.storage.postgres import PostgresEngine
from backdrop.errors import BadRequest, Conflict, InvalidQuery, InvalidRecords, StorageUnavailable
from tests.tcp_relay import TcpRelay

SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin() -> psycopg.Connection:
    return psycopg.connect(SERVER_URL, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="module")
def database_url():
    try:
        admin = _admin()
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {error}")
    name = f"backdrop_pgtest_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _wipe(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM documents")
        conn.execute("DELETE FROM backdrop_records")
        conn.execute("DELETE FROM backdrop_rollups")
        conn.execute("DELETE FROM backdrop_state")


@pytest.fixture
def engine(database_url):
    """This module's own PostgresEngine (overrides the parametrised contract fixture)."""
    engine = PostgresEngine(database_url)
    engine.ping()  # creates the tables
    yield engine
    engine.close()
    _wipe(database_url)


def _config(name: str, group: str | None = None, type_: str | None = None) -> dict:
    return {"name": name, "data_group": group or name, "data_type": type_ or name}


def _record(record_id: str, timestamp: datetime | None = None, **fields) -> dict:
    record = {"_id": record_id, "_updated_at": datetime.now(UTC), **fields}
    if timestamp is not None:
        record["_timestamp"] = timestamp
        record.update(period_keys(timestamp))
    return record


def test_open_engine_accepts_both_url_schemes(database_url):
    for url in (database_url, database_url.replace("postgresql://", "postgres://", 1)):
        engine = open_engine(url)
        try:
            assert isinstance(engine, PostgresEngine)
            engine.ping()
        finally:
            engine.close()


def test_unreachable_server_is_storage_unavailable_quickly():
    engine = PostgresEngine("postgresql://postgres@127.0.0.1:1/backdrop")
    started = time.monotonic()
    try:
        with pytest.raises(StorageUnavailable) as raised:
            engine.ping()
        assert "PostgreSQL" in raised.value.message
        assert raised.value.status == 503
        with pytest.raises(StorageUnavailable):
            Catalog(engine).list()
        assert time.monotonic() - started < 4
    finally:
        engine.close()


def test_recovers_after_its_connections_are_killed(engine, database_url):
    Catalog(engine).create(_config("survivor"))
    engine.records.save("survivor", [_record("a", value=1)])
    name = database_url.rsplit("/", 1)[1]
    with _admin() as admin:
        killed = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()[0]
    assert killed >= 1
    # The pool's checkout check notices the dead connections and replaces them.
    engine.ping()
    assert engine.records.get("survivor", "a")["value"] == 1
    engine.records.save("survivor", [_record("b", value=2)])
    assert engine.records.get("survivor", "b")["value"] == 2


def test_an_outage_is_503_and_service_resumes_when_the_server_is_back(database_url):
    proxy = TcpRelay(("127.0.0.1", 5432))
    engine = PostgresEngine(database_url.replace(":5432/", f":{proxy.port}/"))
    try:
        Catalog(engine).create(_config("outage"))
        engine.records.save("outage", [_record("a", value=1)])

        proxy.stop()  # the server "goes away": every connection drops
        started = time.monotonic()
        for _ in range(3):
            with pytest.raises(StorageUnavailable):
                engine.records.get("outage", "a")
        assert time.monotonic() - started < 6  # at most one pool wait, then fast

        proxy.start()  # the server "restarts" on the same port
        started = time.monotonic()
        assert engine.records.get("outage", "a")["value"] == 1
        assert time.monotonic() - started < 2  # not after the pool's reconnection backoff
        engine.records.save("outage", [_record("b", value=2)])
        assert engine.records.get("outage", "b")["value"] == 2
    finally:
        engine.close()
        proxy.stop()
        _wipe(database_url)


def test_schema_creation_is_safe_under_concurrent_first_use(database_url):
    name = f"backdrop_pgtest_fresh_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url.rsplit("/", 1)[0] + "/" + name
    engines = [PostgresEngine(url) for _ in range(4)]
    failures: list[BaseException] = []

    def first_use(engine: PostgresEngine) -> None:
        try:
            Catalog(engine).list()
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            failures.append(error)

    threads = [threading.Thread(target=first_use, args=(e,)) for e in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert failures == []
        Catalog(engines[0]).create(_config("fresh"))
        assert [c["name"] for c in Catalog(engines[3]).list()] == ["fresh"]
    finally:
        for engine in engines:
            engine.close()
        with _admin() as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_indexes_on_data_set_and_time_exist(engine, database_url):
    engine.ping()
    with psycopg.connect(database_url) as conn:
        definitions = [
            row[0]
            for row in conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'backdrop_records'"
            )
        ]
    assert any('(data_set, "timestamp" NULLS FIRST, id)' in d for d in definitions), definitions
    assert any("(data_set, updated_at, seq)" in d for d in definitions), definitions


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_process_opens_its_own_connections(engine):
    Catalog(engine).create(_config("forked"))
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's sockets
        code = 1
        try:
            engine.records.save("forked", [_record("child", value=7)])
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("child process did not finish in 30 s")
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's pool still works after the child exited.
    assert engine.records.get("forked", "child")["value"] == 7


def test_duplicate_name_and_address_conflict_with_messages(engine):
    Catalog(engine).create(_config("first", "group", "type"))
    with pytest.raises(Conflict, match='A data set named "first" already exists'):
        Catalog(engine).create(_config("first", "other", "other"))
    with pytest.raises(
        Conflict, match='"first" already has data_group "group" and data_type "type"'
    ):
        Catalog(engine).create(_config("second", "group", "type"))
    Catalog(engine).create(_config("second", "g2", "t2"))
    with pytest.raises(Conflict, match='"first" already has'):
        Catalog(engine).update("second", _config("second", "group", "type"))
    assert Catalog(engine).get("second")["data_group"] == "g2"


def test_field_names_and_values_are_parameters_not_sql(engine):
    Catalog(engine).create(_config("safe"))
    engine.records.save("safe", [_record("a", name="O'Brien")])
    hostile = "x'); DROP TABLE backdrop_records; --"
    assert engine.records.find("safe", Where(filters=(Filter(hostile, "1"),))) == []
    assert engine.records.aggregate("safe", Where(), (hostile,), None, ()) == []
    found = engine.records.find("safe", Where(filters=(Filter("name", "O'Brien"),)))
    assert [r["_id"] for r in found] == ["a"]


def test_prefix_is_literal_text_not_a_like_pattern(engine):
    Catalog(engine).create(_config("prefixes"))
    engine.records.save(
        "prefixes",
        [_record("a", code="50%off"), _record("b", code="500"), _record("c", code="a_b")],
    )
    for prefix, expected in (("50%", ["a"]), ("a_", ["c"]), ("%", []), ("_", [])):
        found = engine.records.find("prefixes", Where(prefixes=(PrefixFilter("code", prefix),)))
        assert [r["_id"] for r in found] == expected, prefix


def test_numbers_keep_their_json_types_through_jsonb(engine):
    Catalog(engine).create(_config("numbers"))
    when = datetime(2024, 1, 1, tzinfo=UTC)
    engine.records.save(
        "numbers",
        [
            _record("a", when, n=2, x=1.5, big=2**62, huge=1e20),
            _record("b", when, n=3, x=2.5, big=2**62, huge=1.5e300),
        ],
    )
    record = engine.records.get("numbers", "a")
    assert (type(record["n"]), type(record["x"]), record["big"]) == (int, float, 2**62)
    collects = tuple(Collect(f, "sum") for f in ("n", "x", "big", "huge"))
    (row,) = engine.records.aggregate("numbers", Where(), (), "day", collects)
    assert row["n:sum"] == 5 and type(row["n:sum"]) is int
    assert row["x:sum"] == 4.0 and type(row["x:sum"]) is float
    assert row["big:sum"] == 2**63
    assert row["huge:sum"] == 1.5e300 and type(row["huge:sum"]) is float
    # A filter's number may be an integer too big for 64 bits.
    assert engine.records.find("numbers", Where(filters=(Filter("huge", "1e300"),))) == []
    found = engine.records.find("numbers", Where(filters=(Filter("huge", "1e20"),)))
    assert [r["_id"] for r in found] == ["a"]


def test_sum_over_booleans_is_an_invalid_collect(engine):
    Catalog(engine).create(_config("flags"))
    engine.records.save("flags", [_record("a", flag=True, kind="x")])
    with pytest.raises(InvalidQuery, match="invalid collect function"):
        engine.records.aggregate("flags", Where(), ("kind",), None, (Collect("flag", "mean"),))


def test_capped_size_keeps_newest_records_within_the_byte_budget(engine, database_url):
    Catalog(engine).create(_config("capped"))
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(10):
        record = _record(f"r{i}", payload="x" * 100)
        record["_updated_at"] = base.replace(minute=i)
        engine.records.save("capped", [record], capped_size=500)
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT sum(pg_column_size(data)) FROM backdrop_records WHERE data_set = 'capped'"
        ).fetchone()[0]
    remaining = sorted(r["_id"] for r in engine.records.find("capped", Where()))
    assert stored <= 500
    assert 1 <= len(remaining) < 10
    assert remaining == [f"r{i}" for i in range(10 - len(remaining), 10)]


def test_nul_characters_are_a_clear_bad_request_not_a_crash(engine):
    """PostgreSQL text and JSONB cannot hold NUL: writes say so per record,
    reads treat such text as matching nothing, nothing is half-written."""
    Catalog(engine).create(_config("nul"))
    good = _record("good", value="fine")
    with pytest.raises(InvalidRecords) as raised:
        engine.records.save("nul", [good, _record("bad", value="a\x00b"), _record("x\x00")])
    assert raised.value.messages == [
        "record 1: value cannot be stored (it contains a NUL character)",
        "record 2: _id cannot be stored (it contains a NUL character)",
    ]
    assert engine.records.find("nul", Where()) == []

    engine.records.save("nul", [good])
    assert engine.records.find("nul", Where(filters=(Filter("value", "fine\x00"),))) == []
    assert engine.records.find("nul", Where(prefixes=(PrefixFilter("value", "\x00"),))) == []
    assert engine.records.find("nul", Where(filters=(Filter("va\x00lue", "fine"),))) == []
    assert engine.records.aggregate("nul", Where(), ("va\x00lue",), None, ()) == []
    assert engine.records.get("nul", "good\x00") is None
    assert engine.records.delete("nul", "good\x00") is False
    assert Catalog(engine).find("nul\x00", "nul") is None
    assert Catalog(engine).get("nul\x00") is None
    with pytest.raises(BadRequest) as raised:
        Catalog(engine).add_transform("nul", {"type": "rollup\x00"})
    assert raised.value.message == (
        "transform: transform.type cannot be stored (it contains a NUL character)"
    )
    assert Catalog(engine).list_transforms("nul") == []
    assert [r["_id"] for r in engine.records.find("nul", Where())] == ["good"]


def test_concurrent_batches_sharing_ids_neither_deadlock_nor_duplicate(engine, database_url):
    Catalog(engine).create(_config("busy"))
    ids = [f"r{i:03d}" for i in range(200)]
    failures: list[BaseException] = []

    def writer(seed: int) -> None:
        own = PostgresEngine(database_url)
        order = ids[seed * 50 :] + ids[: seed * 50]  # each writer starts elsewhere
        try:
            for round_ in range(10):
                own.records.save("busy", [_record(i, value=seed, n=round_) for i in order])
                order.reverse()
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            failures.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(r["_id"] for r in engine.records.find("busy", Where())) == ids


def test_documents_with_nul_are_a_clear_bad_request_and_match_nothing(engine):
    with pytest.raises(BadRequest) as raised:
        engine.documents.put("dashboard", "d", {"tiles": [{"title": "a\x00"}]})
    assert raised.value.message == (
        "dashboard: tiles[0].title cannot be stored (it contains a NUL character)"
    )
    with pytest.raises(BadRequest, match="dashboard: id cannot be stored"):
        engine.documents.put("dashboard", "d\x00", {})
    engine.documents.put("dashboard", "d", {"title": "fine"})
    assert engine.documents.get("dashboard", "d\x00") is None
    assert engine.documents.list("dashboard", {"title": "fine\x00"}) == []
    assert engine.documents.list("dashboard", {"ti\x00tle": "fine"}) == []
    assert engine.documents.delete("dashboard", "d\x00") is False
    assert [d.body for d in engine.documents.list("dashboard")] == [{"title": "fine"}]


def test_documents_list_in_code_point_order_whatever_the_collation(engine):
    for id_ in ("é", "a", "B", "_", "10", "9"):
        engine.documents.put("setting", id_, {})
    assert [d.id for d in engine.documents.list("setting")] == ["10", "9", "B", "_", "a", "é"]


def test_a_replacing_save_is_never_seen_half_done(engine, database_url):
    """Readers see the old batch or the new one, never an empty or mixed data
    set, while replacing and plain saves of the same data set run at once."""
    Catalog(engine).create(_config("swap"))
    engine.records.save("swap", [_record(f"r{i}", n=0) for i in range(50)])
    seen: set[int] = set()
    failures: list[BaseException] = []
    done = threading.Event()

    def replacer() -> None:
        try:
            for round_ in range(1, 16):
                batch = [_record(f"r{i}" if round_ % 2 else f"s{i}", n=round_) for i in range(50)]
                engine.records.save("swap", batch, replace=True)
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            failures.append(error)
        finally:
            done.set()

    def saver() -> None:  # rewrites ids the replacer also writes
        own = PostgresEngine(database_url)
        try:
            while not done.is_set():
                own.records.save("swap", [_record(f"r{i}", n=-1) for i in range(49, 39, -1)])
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            failures.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=replacer)] + [threading.Thread(target=saver) for _ in "ab"]
    for thread in threads:
        thread.start()
    while not done.is_set():
        seen.add(engine.records.count("swap"))
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    # A plain save between replaces adds up to 10 ids of the other batch.
    assert seen and min(seen) >= 50 and max(seen) <= 60, seen
    assert engine.records.count("swap") in range(50, 61)


def test_create_drops_records_an_earlier_data_set_left_behind(engine):
    engine.records.save("leftover", [_record("old", value=1)])  # no config: a crash's remains
    Catalog(engine).create(_config("leftover"))
    assert engine.records.count("leftover") == 0
    assert engine.records.find("leftover", Where()) == []
