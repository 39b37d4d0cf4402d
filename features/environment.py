"""Start the real read and write apps under gunicorn for the whole behave run.

They run as separate processes on free ports. The database is chosen by
environment: $BACKDROP_TEST_DATABASE_URL if set; else BACKDROP_TEST_ENGINE=postgresql
makes a scratch database on the real server at 127.0.0.1:5432 (dropped after the
run); else a temporary SQLite file. Every scenario starts with no data sets.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(name: str, env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            str(GUNICORN),
            f"backdrop.{name}:create_app()",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_until_up(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log_path.read_text()}")
        try:
            if requests.get(f"{url}/_status", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer /_status within {START_TIMEOUT}s")


POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"


def _postgres(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def choose_database(context, tmp: Path) -> str:
    context.scratch_database = None
    if os.environ.get("BACKDROP_TEST_DATABASE_URL"):
        return os.environ["BACKDROP_TEST_DATABASE_URL"]
    if os.environ.get("BACKDROP_TEST_ENGINE", "sqlite") == "postgresql":
        context.scratch_database = f"backdrop_features_{secrets.token_hex(4)}"
        _postgres(f"CREATE DATABASE {context.scratch_database}")
        return f"{POSTGRES_SERVER}/{context.scratch_database}"
    return f"sqlite:///{tmp}/features.db"


def before_all(context):
    context.tmp = tempfile.TemporaryDirectory(prefix="backdrop-features-")
    tmp = Path(context.tmp.name)
    context.database_url = choose_database(context, tmp)
    context.admin_token = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "BACKDROP_DATABASE_URL": context.database_url,
        "BACKDROP_ADMIN_TOKEN": context.admin_token,
        "BACKDROP_MAX_BODY_BYTES": str(1024 * 1024),
        "BACKDROP_LOG_LEVEL": "WARNING",
    }
    env.pop("BACKDROP_BROKER_URL", None)
    context.apps = {}
    for name in ("read", "write"):
        log_path = tmp / f"{name}.log"
        process, url = start_app(name, env, log_path)
        context.apps[name] = (process, url, log_path)
    for process, url, log_path in context.apps.values():
        wait_until_up(process, url, log_path)
    context.read_url = context.apps["read"][1]
    context.write_url = context.apps["write"][1]
    print(f"features run against {context.database_url.split('@')[-1]}")  # noqa: T201


def after_all(context):
    for process, _, _ in context.apps.values():
        process.terminate()
    for process, _, _ in context.apps.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    if context.scratch_database:
        _postgres(f"DROP DATABASE IF EXISTS {context.scratch_database} WITH (FORCE)")
    context.tmp.cleanup()


def before_scenario(context, scenario):
    context.tokens = {}
    context.request_body = None
    context.request_headers = {}
    context.response = None
    admin = {"Authorization": f"Bearer {context.admin_token}"}
    listing = requests.get(f"{context.write_url}/data-sets", headers=admin, timeout=10)
    listing.raise_for_status()
    for config in listing.json():
        name = config["name"]
        requests.delete(
            f"{context.write_url}/data-sets/{name}", headers=admin, timeout=10
        ).raise_for_status()
