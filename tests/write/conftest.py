"""A fresh write app per test on a temporary SQLite file, with a recording dispatcher."""

from __future__ import annotations

from datetime import datetime

import pytest

from backdrop.core.query import Where
from backdrop.settings import Settings
from backdrop.write import create_app

ADMIN_TOKEN = "admin-secret"


class RecordingDispatcher:
    """Remembers every dispatch so tests can see what transforms were asked to run."""

    def __init__(self):
        self.calls: list[tuple[str, datetime | None, datetime | None]] = []

    def dispatch(self, data_set, start, end):
        self.calls.append((data_set, start, end))


@pytest.fixture
def settings(tmp_path):
    return Settings(
        database_url=f"sqlite:///{tmp_path}/t.db",
        admin_token=ADMIN_TOKEN,
        max_body_bytes=64 * 1024,
    )


@pytest.fixture
def app(settings):
    app = create_app(settings)
    app.extensions["backdrop"]._dispatcher = RecordingDispatcher()
    yield app
    app.extensions["backdrop"].engine.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def dispatcher(app):
    return app.extensions["backdrop"].dispatcher


@pytest.fixture
def admin():
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def make_data_set(client, admin):
    """Create a data set through the admin API; returns its plain token."""

    def make(name: str = "things", **config) -> str:
        response = client.post("/data-sets", json={"name": name, **config}, headers=admin)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["bearer_token"]

    return make


@pytest.fixture
def token(make_data_set):
    return make_data_set("things", data_group="group", data_type="type")


@pytest.fixture
def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def stored(app):
    """Every record of a data set, straight from the engine."""

    def read(name: str = "things") -> list[dict]:
        return app.extensions["backdrop"].engine.records.find(name, Where())

    return read
