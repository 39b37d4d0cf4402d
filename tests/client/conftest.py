"""Real read and write apps under gunicorn on free ports, one SQLite file per module,
and a fresh data set per test, made through the admin API."""

from __future__ import annotations

import http.server
import itertools
import os
import threading
from dataclasses import dataclass

import pytest
import requests

from backdrop.core.query import Where
from backdrop.core.storage import open_engine
from backdrop.testing import AppProcess, start_app

ADMIN = {"Authorization": "Bearer admin-secret"}
_names = itertools.count()
LOST = b'{"status": "error", "message": "bad gateway"}'


@dataclass
class Apps:
    write: AppProcess
    read: AppProcess
    env: dict[str, str]
    database_url: str

    def stored(self, name: str) -> list[dict]:
        engine = open_engine(self.database_url)
        try:
            return engine.records.find(name, Where())
        finally:
            engine.close()


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    root = tmp_path_factory.mktemp("apps")
    url = f"sqlite:///{root}/backdrop.db"
    env = {**os.environ, "BACKDROP_DATABASE_URL": url, "BACKDROP_ADMIN_TOKEN": "admin-secret"}
    env["BACKDROP_LOG_LEVEL"] = "WARNING"
    write = start_app("write", env, root / "write.log", workers=1)
    try:
        read = start_app("read", env, root / "read.log", workers=1)
    except BaseException:
        write.stop()
        raise
    yield Apps(write, read, env, url)
    read.stop()
    write.stop()


@dataclass
class Target:
    name: str
    token: str
    url: str
    read_url: str


@pytest.fixture
def data_set(apps) -> Target:
    name = f"set{next(_names)}"
    response = requests.post(
        f"{apps.write.url}/data-sets", json={"name": name}, headers=ADMIN, timeout=30
    )
    assert response.status_code == 201, response.text
    return Target(
        name,
        response.json()["bearer_token"],
        f"{apps.write.url}/data/{name}/{name}",
        f"{apps.read.url}/data/{name}/{name}",
    )


class FlakyFront:
    """A local HTTP front for the write app that forwards every request, but
    answers the first ``lose`` of them with 502 *after* the write app has
    stored them: the case where a client must retry a chunk that did land."""

    def __init__(self, upstream: str, lose: int):
        self.lose = lose
        self.seen = 0
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server hook name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = requests.post(upstream + self.path, data=body, headers=headers, timeout=30)
                front.seen += 1
                lost = front.seen <= front.lose
                self.send_response(502 if lost else answer.status_code)
                payload = (
                    b'{"status": "error", "message": "bad gateway"}' if lost else answer.content
                )
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky_front(apps):
    fronts = []

    def make(lose: int) -> FlakyFront:
        front = FlakyFront(apps.write.url, lose)
        fronts.append(front)
        return front

    yield make
    for front in fronts:
        front.close()
