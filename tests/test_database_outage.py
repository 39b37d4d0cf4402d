"""The database goes away under running apps and comes back.

Both apps run under gunicorn against the real PostgreSQL server through a
relay that can be switched off: while it is off, /_status and writes answer
503 with a JSON message (never a stack trace) and nothing is half-written;
once it is back, the same processes serve again without a restart.
"""

from __future__ import annotations

import os
import time

import pytest
import requests

from backdrop.testing import start_app
from tests.tcp_relay import TcpRelay

pytestmark = pytest.mark.slow

ADMIN = {"Authorization": "Bearer outage-admin"}
RECOVERY_SECONDS = 15


def status(app) -> int:
    return requests.get(f"{app.url}/_status", timeout=10).status_code


def test_apps_answer_503_during_an_outage_and_recover_by_themselves(
    postgres_database_url, tmp_path
):
    relay = TcpRelay(("127.0.0.1", 5432))
    url = postgres_database_url.replace(":5432/", f":{relay.port}/")
    env = {**os.environ, "BACKDROP_DATABASE_URL": url, "BACKDROP_ADMIN_TOKEN": "outage-admin"}
    env.pop("BACKDROP_BROKER_URL", None)
    write = start_app("write", env, tmp_path / "write.log", workers=1)
    read = start_app("read", env, tmp_path / "read.log", workers=1)
    try:
        created = requests.post(
            f"{write.url}/data-sets", json={"name": "outage"}, headers=ADMIN, timeout=10
        )
        assert created.status_code == 201, created.text
        token = {"Authorization": f"Bearer {created.json()['bearer_token']}"}
        path = "/data/outage/outage"
        before = requests.post(f"{write.url}{path}", json={"_id": "a"}, headers=token, timeout=10)
        assert before.status_code == 200

        relay.stop()
        assert status(read) == 503 and status(write) == 503
        during = requests.post(f"{write.url}{path}", json={"_id": "b"}, headers=token, timeout=10)
        assert during.status_code == 503
        assert during.json()["status"] == "error"
        assert "database" in during.json()["message"]
        assert "Traceback" not in during.text
        reading = requests.get(f"{read.url}{path}", timeout=10)
        assert reading.status_code == 503 and "Traceback" not in reading.text

        relay.start()
        deadline = time.monotonic() + RECOVERY_SECONDS
        while (status(read), status(write)) != (200, 200):
            assert time.monotonic() < deadline, "the apps did not recover by themselves"
            time.sleep(0.2)
        after = requests.post(f"{write.url}{path}", json={"_id": "b"}, headers=token, timeout=10)
        assert after.status_code == 200
        stored = requests.get(f"{read.url}{path}", timeout=10).json()["data"]
        assert sorted(record["_id"] for record in stored) == ["a", "b"]
    finally:
        write.stop()
        read.stop()
        relay.stop()
