"""The apps started exactly as ``./start-app.sh`` starts them (gunicorn with
backdrop/gunicorn_conf.py, 2 workers), on a free port of 127.0.0.1, over one
scratch SQLite file unless a test gives another database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from backdrop.testing import ROOT, AppProcess, free_port, wait_until_answering
from tests.write.test_every_engine import api  # noqa: F401  (the write-app fixture, shared)

TOKEN = "hostile-token"


def start_like_start_app(app: str, env: dict[str, str], log_path: Path) -> AppProcess:
    port = free_port()
    env = {**env, "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the repository's own start script
            [str(ROOT / "start-app.sh"), app, str(port), "127.0.0.1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # stop() ends gunicorn and its workers together
        )
    return wait_until_answering(AppProcess(process, f"http://127.0.0.1:{port}", log_path), app)


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/hostile.db",
        "BACKDROP_ADMIN_TOKEN": TOKEN,
        "WEB_CONCURRENCY": "2",
        **extra,
    }


@pytest.fixture
def start(tmp_path):
    """``start(app, **env)`` → a running app; every one is stopped after the test."""
    started: list[AppProcess] = []

    def _start(app: str, **extra: str) -> AppProcess:
        running = start_like_start_app(app, app_env(tmp_path, **extra), tmp_path / f"{app}.log")
        started.append(running)
        return running

    yield _start
    for running in started:
        running.stop()


def make_data_set(write_url: str, name: str = "hostile", **config: object) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {"name": name, "bearer_token": TOKEN, **config}
    response = requests.post(f"{write_url}/data-sets", json=body, headers=auth, timeout=10)
    assert response.status_code in (200, 201), response.text
