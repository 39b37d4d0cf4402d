"""The Celery worker's own /metrics (BACKDROP_WORKER_METRICS_PORT): transform
runs counted in its pool's processes, summed by its main process."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from backdrop.testing import free_port, start_app, stop
from tests.transformers.conftest import ADMIN, ADMIN_TOKEN
from tests.transformers.test_worker import reachable, wait_for

BROKER = "redis://127.0.0.1:6379/12"


def _transform_runs(url: str) -> dict[tuple[str, str], float]:
    try:
        text = requests.get(url, timeout=2).text
    except requests.RequestException:
        return {}
    return {
        (s.labels["type"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "backdrop_transform_runs_total"
    }


@pytest.mark.slow
def test_the_worker_serves_its_transform_runs(tmp_path):
    if not reachable(6379):
        pytest.skip("no Redis broker listening on 127.0.0.1:6379")
    env = {
        **os.environ,
        "BACKDROP_BROKER_URL": BROKER,
        "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
        "BACKDROP_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    # The app first: a port picked before it starts could be picked again for it.
    write = start_app("write", env, tmp_path / "write.log", workers=1)
    port = free_port()
    command = [sys.executable, "-m", "celery", "-A", "backdrop.transformers.worker", "worker"]
    command += ["--concurrency", "2", "--loglevel", "INFO", "--purge", "--without-mingle"]
    command += [
        "--without-gossip",
        "--without-heartbeat",
        "--hostname",
        f"backdrop-metrics-{uuid.uuid4().hex}@%h",
    ]
    log = tmp_path / "worker.log"
    with log.open("w") as sink:
        worker = subprocess.Popen(
            command,
            env={**env, "BACKDROP_WORKER_METRICS_PORT": str(port)},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        wait_for(lambda: "ready." in log.read_text(), "the worker to start", 60)
        wait_for(lambda: f":{port}/metrics" in log.read_text(), "the worker's metrics server")
        created = requests.post(
            f"{write.url}/data-sets", json={"name": "counted"}, headers=ADMIN, timeout=10
        )
        transform = {
            "type": "rollup",
            "query": {"period": "day", "collect": ["value:sum"]},
            "output": {"data_group": "counted", "data_type": "daily"},
        }
        requests.post(
            f"{write.url}/data-sets/counted/transforms", json=transform, headers=ADMIN, timeout=10
        )
        token = {"Authorization": f"Bearer {created.json()['bearer_token']}"}
        for day in ("01", "02", "03"):
            record = {"_timestamp": f"2024-05-{day}T09:00:00Z", "value": 1}
            response = requests.post(
                f"{write.url}/data/counted/counted", json=record, headers=token, timeout=10
            )
            assert response.status_code == 200
        wait_for(
            lambda: _transform_runs(url).get(("rollup", "ok")) == 3,
            f"three rollup runs in the worker's metrics:\n{log.read_text()}",
        )
    finally:
        write.stop()
        stop(worker)
