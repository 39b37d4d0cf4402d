"""Start the real read and write apps under gunicorn for the whole behave run.

They run as separate processes on free ports. The database is chosen by
environment: $BACKDROP_TEST_DATABASE_URL if set; else BACKDROP_TEST_ENGINE=postgresql
makes a scratch database on the real server at 127.0.0.1:5432 (dropped after the
run); else a temporary SQLite file. Every scenario starts with no data sets.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import requests

from backdrop.testing import start_app

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
    context.apps = {name: start_app(name, env, tmp / f"{name}.log") for name in ("read", "write")}
    context.read_url = context.apps["read"].url
    context.write_url = context.apps["write"].url
    print(f"features run against {context.database_url.split('@')[-1]}")  # noqa: T201


def after_all(context):
    for app in context.apps.values():
        app.stop()
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
