"""Celery beat and a worker on the real RabbitMQ broker pull sources on their
schedule; a source added through the API afterwards is pulled too, with no
restart. Worker and beat use a queue of their own (other runs share the
broker). Every wait is bounded; both processes are always stopped; their
logs stay in the test's tmp_path (worker.log, beat.log)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import kombu
import pytest

from backdrop.core.sources.store import Sources
from backdrop.core.storage import open_engine
from backdrop.settings import Settings
from backdrop.testing import stop
from backdrop.write import create_app
from tests.file_server import FileServer, Reply
from tests.transformers.test_worker import reachable, wait_for

pytestmark = pytest.mark.slow
BROKER = "amqp://guest:guest@127.0.0.1:5672//"
ADMIN = {"Authorization": "Bearer beat-admin"}


def start(kind: str, env: dict[str, str], directory, queue: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "backdrop.transformers.worker", kind]
    if kind == "worker":
        command += ["--concurrency", "1", "-Q", queue, "--without-mingle", "--without-gossip",
                    "--without-heartbeat", "--hostname", f"{queue}@%h", "--purge"]  # fmt: skip
    else:
        command += ["--schedule", str(directory / "beat-schedule")]
    with (directory / f"{kind}.log").open("w") as sink:
        return subprocess.Popen(command, cwd=directory, env=env, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def test_beat_pulls_due_sources_and_picks_up_new_ones_without_a_restart(tmp_path):
    if not reachable(5672):
        pytest.skip("no RabbitMQ listening on 127.0.0.1:5672")
    database_url = f"sqlite:///{tmp_path}/backdrop.db"
    queue = f"backdrop-beat-test-{uuid.uuid4().hex}"
    env = {**os.environ, "BACKDROP_BROKER_URL": BROKER, "BACKDROP_DATABASE_URL": database_url,
           "BACKDROP_SOURCES_ALLOW_PRIVATE": "true", "BACKDROP_SOURCES_TICK_SECONDS": "2",
           "BACKDROP_SOURCES_QUEUE": queue, "BACKDROP_LOG_LEVEL": "INFO"}  # fmt: skip
    settings = Settings(database_url=database_url, admin_token="beat-admin")
    api = create_app(settings).test_client()
    engine = open_engine(database_url)
    processes = []
    with FileServer() as server:
        server.routes["/one.csv"] = Reply(b"_id,count\na,1\n")
        server.routes["/two.csv"] = Reply(b"_id,count\nb,2\n")
        api.post("/data-sets", json={"name": "pulled"}, headers=ADMIN)

        def add(path: str) -> str:
            body = {"url": f"{server.url}{path}", "format": "csv", "schedule": "every 1m"}
            added = api.post("/data-sets/pulled/sources", json=body, headers=ADMIN)
            assert added.status_code == 201, added.json
            return added.json["id"]

        def ran(source_id: str):
            return Sources(engine).history(source_id)

        first = add("/one.csv")
        try:
            processes.append(start("worker", env, tmp_path, queue))
            processes.append(start("beat", env, tmp_path, queue))
            runs = wait_for(lambda: ran(first), "beat and the worker to pull the first source", 60)
            assert runs[0]["status"] == "ok" and engine.records.get("pulled", "a")["count"] == 1
            second = add("/two.csv")
            runs = wait_for(lambda: ran(second), "the source added later to be pulled", 30)
            assert runs[0]["status"] == "ok" and engine.records.get("pulled", "b")["count"] == 2
            assert len(ran(first)) == 1  # every 1m: not again yet, and never twice at once
            assert server.hits["/one.csv"] == 1
        finally:
            for process in processes:
                stop(process)
            engine.close()
            with kombu.Connection(BROKER, connect_timeout=5) as connection:
                connection.default_channel.queue_delete(queue)  # leave the shared broker clean
