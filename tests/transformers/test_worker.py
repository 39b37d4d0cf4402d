"""A real ``celery -A backdrop.transformers.worker worker`` against RabbitMQ
and against Redis: records written through the write app come back derived
through the read app. Every wait is bounded and the worker is always killed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from backdrop.core.storage import open_engine
from backdrop.testing import start_app, stop
from tests.transformers.conftest import ADMIN, ADMIN_TOKEN

pytestmark = pytest.mark.slow

BROKERS = {
    "amqp": ("amqp://guest:guest@127.0.0.1:5672//", 5672),
    "redis": ("redis://127.0.0.1:6379/11", 6379),
}
WAIT_SECONDS = 30


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(check, what: str, seconds: float = WAIT_SECONDS):
    """Poll ``check`` until it returns something truthy, or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"timed out after {seconds}s waiting for {what}")


@dataclass
class Worker:
    broker_url: str
    database_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module", params=sorted(BROKERS))
def worker(request, tmp_path_factory):
    broker_url, port = BROKERS[request.param]
    if not reachable(port):
        pytest.skip(f"no {request.param} broker listening on 127.0.0.1:{port}")
    directory = tmp_path_factory.mktemp(f"worker-{request.param}")
    database_url = f"sqlite:///{directory}/backdrop.db"
    log = directory / "worker.log"
    env = {
        **os.environ,
        "BACKDROP_BROKER_URL": broker_url,
        "BACKDROP_DATABASE_URL": database_url,
        "BACKDROP_LOG_LEVEL": "INFO",
    }
    command = [sys.executable, "-m", "celery", "-A", "backdrop.transformers.worker", "worker"]
    command += ["--concurrency", "1", "--loglevel", "INFO"]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    # Our own node name; --purge drops messages an earlier run left queued.
    command += ["--hostname", f"backdrop-test-{uuid.uuid4().hex}@%h", "--purge"]
    with log.open("w") as sink:
        process = subprocess.Popen(
            command,
            cwd=directory,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Worker(broker_url, database_url, log)
    try:
        wait_for(
            lambda: "ready." in running.output() or process.poll() is not None,
            "the worker to start",
            60,
        )
        if process.poll() is not None:
            pytest.fail(f"the worker exited:\n{running.output()}")
        yield running
    finally:
        stop(process)


@pytest.fixture(scope="module")
def apps(worker, tmp_path_factory):
    """The write and read apps under gunicorn, on the worker's database and broker."""
    directory = tmp_path_factory.mktemp("apps")
    env = {
        **os.environ,
        "BACKDROP_DATABASE_URL": worker.database_url,
        "BACKDROP_BROKER_URL": worker.broker_url,
        "BACKDROP_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    write = start_app("write", env, directory / "write.log", workers=1)
    try:
        read = start_app("read", env, directory / "read.log", workers=1)
    except BaseException:
        write.stop()
        raise
    yield HTTP(write.url), HTTP(read.url)
    write.stop()
    read.stop()


@dataclass
class HTTP:
    """Requests to one running app, by path."""

    url: str

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=10, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(f"{self.url}{path}", timeout=10, **kwargs)


def setup_source(write, name: str, transforms: list[dict]) -> dict[str, str]:
    created = write.post("/data-sets", json={"name": name}, headers=ADMIN)
    assert created.status_code == 201, created.json()
    for transform in transforms:
        response = write.post(f"/data-sets/{name}/transforms", json=transform, headers=ADMIN)
        assert response.status_code == 201, response.json()
    return {"Authorization": f"Bearer {created.json()['bearer_token']}"}


def rollup(name: str, output: str, collect: str = "value:sum") -> dict:
    return {
        "type": "rollup",
        "query": {"period": "day", "group_by": ["stage"], "collect": [collect]},
        "output": {"data_group": name, "data_type": output},
    }


RECORDS = [
    {"_timestamp": "2024-05-01T09:00:00Z", "stage": "start", "value": 2, "note": "x"},
    {"_timestamp": "2024-05-01T15:00:00Z", "stage": "start", "value": 3, "note": "y"},
    {"_timestamp": "2024-05-02T09:00:00Z", "stage": "done", "value": 4, "note": "z"},
]


def read_rows(read, path: str):
    response = read.get(path)
    return response.json()["data"] if response.status_code == 200 else None


def test_the_worker_derives_records_from_a_write(apps, worker):
    write, read = apps
    name = "derive"
    token = setup_source(write, name, [rollup(name, "daily")])
    response = write.post(f"/data/{name}/{name}", json=RECORDS, headers=token)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})

    data = wait_for(lambda: read_rows(read, f"/data/{name}/daily"), "derived records")
    summary = sorted((r["_start_at"][:10], r["stage"], r["count"], r["value_sum"]) for r in data)
    assert summary == [
        ("2024-05-01", "done", 0, None),
        ("2024-05-01", "start", 2, 5),
        ("2024-05-02", "done", 1, 4),
        ("2024-05-02", "start", 0, None),
    ]


def test_a_failing_transform_is_logged_by_the_worker_and_the_write_stands(apps, worker):
    write, read = apps
    name = "failing"
    token = setup_source(write, name, [rollup(name, "broken", "note:sum"), rollup(name, "daily")])
    response = write.post(f"/data/{name}/{name}", json=RECORDS, headers=token)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert len(read_rows(read, f"/data/{name}/{name}")) == 3

    wait_for(lambda: read_rows(read, f"/data/{name}/daily"), "the working transform's records")
    failure = f"of {name} failed over 2024-05-01T09:00:00+00:00 – 2024-05-02T09:00:00+00:00"
    wait_for(lambda: failure in worker.output(), "the failure in the worker's log")
    assert f"re-run: backdrop transforms run {name} --start 2024-05-01T09:00:00+00:00" in (
        worker.output()
    )
    assert read.get(f"/data/{name}/broken").status_code == 404  # nothing half-written


def test_re_running_a_range_leaves_one_copy_of_each_record(apps, worker):
    write, read = apps
    name = "rerun"
    token = setup_source(write, name, [rollup(name, "daily")])
    assert write.post(f"/data/{name}/{name}", json=RECORDS, headers=token).status_code == 200
    first = wait_for(lambda: read_rows(read, f"/data/{name}/daily"), "derived records")

    triggered = datetime.now(UTC).isoformat()
    for _ in range(2):
        response = write.post(
            f"/data/{name}/{name}/transform",
            json={"_start_at": "2024-05-01T09:00:00Z", "_end_at": "2024-05-02T09:00:00Z"},
            headers=token,
        )
        assert response.status_code == 200

    # The first run and both re-runs have each written their records.
    wait_for(lambda: worker.output().count(f"of {name} wrote 4 record(s)") >= 3, "both re-runs")
    again = read_rows(read, f"/data/{name}/daily")
    assert all(r["_updated_at"] > triggered for r in again)
    assert sorted(r["_id"] for r in again) == sorted(r["_id"] for r in first)
    assert len(again) == 4


def test_the_workers_lines_carry_the_request_id_of_the_write(apps, worker):
    write, _read = apps
    name = "traced"
    token = setup_source(write, name, [rollup(name, "daily")])
    headers = {**token, "X-Request-Id": f"trace-{worker.broker_url[:4]}-1"}
    assert write.post(f"/data/{name}/{name}", json=RECORDS, headers=headers).status_code == 200

    def traced_line():
        return [
            line
            for line in worker.output().splitlines()
            if f"of {name} wrote" in line and f"request_id={headers['X-Request-Id']}" in line
        ]

    wait_for(traced_line, "the worker's line with the write's request id")


def test_the_worker_builds_a_rollup_declared_through_the_api(apps, worker):
    write, read = apps
    name = "rolled"
    token = setup_source(write, name, [])
    assert write.post(f"/data/{name}/{name}", json=RECORDS, headers=token).status_code == 200
    query = f"/data/{name}/{name}?group_by=stage&collect=value:sum"
    before = read_rows(read, query)
    changes = {"dimensions": ["stage"], "measures": ["value"]}
    url = f"{write.url}/data-sets/{name}"
    response = requests.patch(url, json=changes, headers=ADMIN, timeout=10)
    assert response.status_code == 200, response.json()
    engine = open_engine(worker.database_url)
    try:
        wait_for(lambda: engine.records.state(name).ready, "the worker to build the rollup")
    finally:
        engine.close()
    assert f"built the rollup of {name} in" in worker.output()
    assert "backdrop.rollups.sweep" in worker.output()  # queued when the worker started
    assert read_rows(read, query) == before
