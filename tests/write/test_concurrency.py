"""Concurrent writers through gunicorn on one SQLite file: every record stored once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from backdrop.core.query import Where
from backdrop.core.storage import open_engine
from backdrop.testing import start_app, stop

pytestmark = pytest.mark.slow

CLIENTS = 4
BATCHES = 25
BATCH_SIZE = 200
START_TIMEOUT = 30
RUN_TIMEOUT = 180

# Each client process posts its own batches with distinct _ids and exits
# non-zero on the first response that is not 200.
CLIENT = """
import sys, requests
url, token = sys.argv[1], sys.argv[2]
client, batches, size = (int(a) for a in sys.argv[3:6])
session = requests.Session()
headers = {"Authorization": f"Bearer {token}"}
for batch in range(batches):
    records = [
        {"_id": f"c{client}-b{batch}-r{i}", "client": client, "batch": batch,
         "_timestamp": f"2024-01-{batch + 1:02d}T{i % 24:02d}:00:00Z"}
        for i in range(size)
    ]
    response = session.post(url, json=records, headers=headers, timeout=60)
    if response.status_code != 200:
        sys.exit(f"client {client} batch {batch}: {response.status_code} {response.text}")
"""


def test_concurrent_batches_are_each_stored_exactly_once(tmp_path: Path):
    database_url = f"sqlite:///{tmp_path}/load.db"
    env = {
        **os.environ,
        "BACKDROP_DATABASE_URL": database_url,
        "BACKDROP_ADMIN_TOKEN": "admin",
        "BACKDROP_LOG_LEVEL": "WARNING",
    }
    env.pop("BACKDROP_BROKER_URL", None)
    app = start_app("write", env, tmp_path / "gunicorn.log", workers=2, timeout=START_TIMEOUT)
    url = app.url
    clients: list[subprocess.Popen] = []
    try:
        created = requests.post(
            f"{url}/data-sets",
            json={"name": "load"},
            headers={"Authorization": "Bearer admin"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        token = created.json()["bearer_token"]
        clients = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    CLIENT,
                    f"{url}/data/load/load",
                    token,
                    *(str(n) for n in (client, BATCHES, BATCH_SIZE)),
                ],
                stderr=subprocess.PIPE,
            )
            for client in range(CLIENTS)
        ]
        deadline = time.monotonic() + RUN_TIMEOUT
        for client in clients:
            _, errors = client.communicate(timeout=max(1, deadline - time.monotonic()))
            assert client.returncode == 0, errors.decode()
    finally:
        for client in clients:
            stop(client)
        app.stop()

    engine = open_engine(database_url)
    try:
        records = engine.records.find("load", Where())
    finally:
        engine.close()
    ids = [record["_id"] for record in records]
    assert len(ids) == CLIENTS * BATCHES * BATCH_SIZE
    assert set(ids) == {
        f"c{c}-b{b}-r{i}" for c in range(CLIENTS) for b in range(BATCHES) for i in range(BATCH_SIZE)
    }
