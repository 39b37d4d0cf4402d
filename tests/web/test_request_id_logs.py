"""One request id, followed from the response header into the log lines of that
request on a real gunicorn write app logging JSON: the audit line of the
write, the dispatch line of its transforms and the access line."""

from __future__ import annotations

import json
import os
import time

import pytest
import requests

from backdrop.testing import start_app

ADMIN = {"Authorization": "Bearer ops-admin"}


@pytest.fixture
def write_app(tmp_path):
    env = {
        **os.environ,
        "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
        "BACKDROP_ADMIN_TOKEN": "ops-admin",
        "BACKDROP_LOG_FORMAT": "json",
    }
    app = start_app("write", env, tmp_path / "write.log")
    yield app
    app.stop()


def _json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def _lines_of(app, request_id: str, count: int) -> list[dict]:
    """The app's JSON log lines of one request, waiting briefly for them."""
    deadline = time.monotonic() + 5
    while True:
        lines = [line for line in _json_lines(app.log()) if line.get("request_id") == request_id]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@pytest.mark.slow
def test_a_write_is_followed_by_its_request_id(write_app):
    created = requests.post(
        f"{write_app.url}/data-sets", json={"name": "followed"}, headers=ADMIN, timeout=10
    )
    token = created.json()["bearer_token"]
    response = requests.post(
        f"{write_app.url}/data/followed/followed",
        json=[{"_timestamp": "2024-01-01T00:00:00Z", "count": 1}],
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200
    request_id = response.headers["X-Request-Id"]

    lines = _lines_of(write_app, request_id, 3)
    audit = [line for line in lines if line["logger"] == "backdrop.audit"]
    dispatch = [line for line in lines if line["message"].startswith("dispatch the transforms")]
    assert len(audit) == 1 and len(dispatch) == 1, lines
    assert audit[0]["action"] == "records.write"
    (access,) = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert (access["method"], access["path"], access["status"]) == (
        "POST",
        "/data/followed/followed",
        200,
    )
    assert (audit[0]["data_set"], audit[0]["records"], audit[0]["actor"]) == (
        "followed",
        1,
        "data-set token",
    )
    for line in lines:
        assert set(line) >= {"time", "level", "logger", "message", "request_id"}
    assert token not in write_app.log()
    for line in write_app.log().splitlines():  # gunicorn's own lines are JSON too
        assert set(json.loads(line)) >= {"time", "level", "logger", "message"}, line
    creation = created.headers["X-Request-Id"]
    creation_lines = _lines_of(write_app, creation, 2)
    assert [line.get("action") for line in creation_lines if line.get("audit")] == [
        "data_set.create"
    ]


@pytest.mark.slow
def test_text_access_lines_carry_the_request_id(tmp_path):
    env = {**os.environ, "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/r.db"}
    app = start_app("read", env, tmp_path / "read.log")
    try:
        requests.get(f"{app.url}/_status", headers={"X-Request-Id": "seen-9"}, timeout=10)
    finally:
        app.stop()
    (line,) = [line for line in app.log().splitlines() if "request_id=seen-9" in line]
    assert '"GET /_status HTTP/1.1" 200' in line
