"""Every database wait ends in a JSON 503 with its cause, well before any
client gives up: a held SQLite lock, a PostgreSQL server that stops
answering (a blackholed relay), a statement past its deadline, the SQLite
file deleted under the running app."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from backdrop.core.storage.postgres import PostgresEngine
from backdrop.core.storage.sqlite import SQLiteEngine
from backdrop.errors import BadRequest, StorageUnavailable
from tests.hostile.conftest import TOKEN, make_data_set
from tests.tcp_relay import TcpRelay

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PATH = "/data/hostile/hostile"


def post(app, body, timeout: float = 30) -> tuple[requests.Response, float]:
    began = time.monotonic()
    response = requests.post(f"{app.url}{PATH}", json=body, headers=AUTH, timeout=timeout)
    return response, time.monotonic() - began


def test_a_held_sqlite_lock_is_a_json_503_within_the_timeout(start, tmp_path):
    write = start("write", BACKDROP_DATABASE_TIMEOUT="1")
    make_data_set(write.url)
    blocker = sqlite3.connect(tmp_path / "hostile.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # held as the probe held it, for longer than any wait
    try:
        response, took = post(write, {"_id": "a"})
        assert response.status_code == 503
        assert response.json()["message"] == (
            "The database is unavailable: the database is locked by another writer, "
            "please retry later"
        )
        assert took < 3
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert post(write, {"_id": "a"})[0].status_code == 200
    assert "SQLite unavailable: the database is locked" in write.log()


def test_writes_after_the_sqlite_file_is_deleted_are_refused_not_lost(start, tmp_path):
    write, read = start("write"), start("read")
    make_data_set(write.url)
    assert post(write, {"_id": "before"})[0].status_code == 200
    # Every worker has built its engine by now (a worker booting after the
    # deletion starts afresh on a new file, as a restarted app would).
    time.sleep(3)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path}/hostile.db{suffix}").unlink(missing_ok=True)
    for _ in range(4):  # whichever worker and thread answers
        response, _ = post(write, {"_id": "after"})
        assert response.status_code == 503
        assert "deleted or replaced" in response.json()["message"]
    for app in (write, read):
        status = requests.get(f"{app.url}/_status", timeout=10)
        assert status.status_code == 503, app.log()
        assert "deleted or replaced" in status.json()["message"]
    assert "was deleted or replaced while the app ran" in write.log()


@pytest.mark.slow
def test_a_blackholed_postgresql_is_a_json_503_not_a_hang(start, postgres_database_url):
    relay = TcpRelay(("127.0.0.1", 5432))
    url = postgres_database_url.replace(":5432/", f":{relay.port}/")
    try:
        write = start("write", BACKDROP_DATABASE_URL=url, BACKDROP_DATABASE_TIMEOUT="2")
        make_data_set(write.url, "blackhole")
        relay.blackholed = True
        for _ in range(3):
            began = time.monotonic()
            response = requests.post(
                f"{write.url}/data/blackhole/blackhole", json={"_id": "x"}, headers=AUTH, timeout=30
            )
            took = time.monotonic() - began
            assert response.status_code == 503, response.text
            assert response.json()["status"] == "error"
            assert "PostgreSQL" in response.json()["message"]
            # timeout (2 s) + grace (2 s), or a fresh connection's connect timeout (3 s)
            # after the pool's wait (3 s)
            assert took < 8, took
        relay.blackholed = False
    finally:
        relay.stop()


def test_a_statement_past_the_deadline_is_a_503_on_sqlite(tmp_path):
    engine = SQLiteEngine(f"sqlite:///{tmp_path}/slow.db", timeout=0.3)
    forever = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )
    began = time.monotonic()
    with pytest.raises(StorageUnavailable, match="the query took longer than the database timeout"):
        engine.connections.select(forever)
    assert time.monotonic() - began < 2
    assert engine.connections.select("SELECT 1") == [(1,)]  # the connection still works
    engine.close()


def test_a_statement_past_the_deadline_is_a_503_on_postgresql(postgres_database_url):
    engine = PostgresEngine(postgres_database_url, timeout=0.3)
    try:
        with pytest.raises(StorageUnavailable, match="took longer than the database timeout"):
            with engine._connections.connection() as conn:
                conn.execute("SELECT pg_sleep(5)")
        engine.ping()  # the pool recovers: the server cancelled, nothing was cut
    finally:
        engine.close()


def test_a_postgresql_limit_is_a_400_not_cannot_reach(postgres_database_url):
    """The probe's 2,700-character _id hit the btree row limit, once a 503
    "cannot reach PostgreSQL" that clients retried forever."""
    engine = PostgresEngine(postgres_database_url)
    try:
        engine.records.create("limits")
        record = {"_id": secrets.token_urlsafe(6000), "_updated_at": datetime.now(UTC)}
        with pytest.raises(BadRequest, match="The database cannot store this value: index row"):
            engine.records.save("limits", [record])
        engine.ping()
    finally:
        engine.records.drop("limits")
        engine.close()


def test_a_saturated_pool_says_busy_not_cannot_reach(postgres_database_url):
    engine = PostgresEngine(postgres_database_url, max_size=1, timeout=5)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with engine._connections.connection():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        with pytest.raises(StorageUnavailable, match="The database is busy: all 1 PostgreSQL"):
            engine.ping()
    finally:
        release.set()
        holder.join()
    engine.ping()
    engine.close()
