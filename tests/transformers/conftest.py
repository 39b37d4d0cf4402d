"""Write and read apps sharing a temporary SQLite file, with the real
(in-process) dispatcher, plus helpers to create data sets and transforms."""

from __future__ import annotations

import pytest

from backdrop.core import writes
from backdrop.core.data_sets import Registry
from backdrop.core.storage.base import StorageEngine
from backdrop.read import create_app as create_read_app
from backdrop.settings import Settings
from backdrop.write import create_app as create_write_app

ADMIN_TOKEN = "admin-secret"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class NoDispatch:
    """A dispatcher that runs nothing: for seeding a source without its transforms."""

    def dispatch(self, data_set, start, end):
        return None


def seed_source(engine: StorageEngine, days: tuple[str, str]) -> None:
    """Create data set "src" holding one record of stage "a" and one of "b",
    at 10:00 on each of ``days`` (YYYY-MM-DD)."""
    data_sets = Registry(engine)
    data_sets.create({"name": "src"})
    records = [
        {"_timestamp": f"{day}T10:00:00Z", "stage": stage}
        for day, stage in zip(days, ("a", "b"), strict=True)
    ]
    writes.save(engine, NoDispatch(), data_sets.get("src"), records)


@pytest.fixture
def settings(tmp_path):
    return Settings(database_url=f"sqlite:///{tmp_path}/t.db", admin_token=ADMIN_TOKEN)


@pytest.fixture
def write_app(settings):
    app = create_write_app(settings)
    yield app
    app.extensions["backdrop"].engine.close()


@pytest.fixture
def write(write_app):
    return write_app.test_client()


@pytest.fixture
def read(settings):
    app = create_read_app(settings)
    yield app.test_client()
    app.extensions["backdrop"].engine.close()


@pytest.fixture
def write_engine(write_app):
    """The write app's engine (the shared ``engine`` fixture is one per engine kind)."""
    return write_app.extensions["backdrop"].engine


@pytest.fixture
def make_data_set(write):
    """Create a data set through the admin API; returns its write headers."""

    def make(name: str, **config) -> dict[str, str]:
        response = write.post("/data-sets", json={"name": name, **config}, headers=ADMIN)
        assert response.status_code == 201, response.json
        return {"Authorization": f"Bearer {response.json['bearer_token']}"}

    return make


@pytest.fixture
def add_transform(write):
    def add(name: str, transform: dict) -> dict:
        response = write.post(f"/data-sets/{name}/transforms", json=transform, headers=ADMIN)
        assert response.status_code == 201, response.json
        return response.json

    return add
