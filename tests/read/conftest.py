"""A fresh read app on a temporary SQLite file per test, and a way to fill it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from backdrop.core.records import prepare_records
from backdrop.read import create_app
from backdrop.settings import Settings


@pytest.fixture
def app(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/t.db", log_level="WARNING"))
    yield app
    app.extensions["backdrop"].engine.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def data_set(app):
    """``data_set(name, records=[], now=…, **config)`` creates a data set and
    stores the records as the write API would."""
    backdrop = app.extensions["backdrop"]

    def make(
        name: str,
        records: list[dict[str, Any]] | None = None,
        now: datetime | None = None,
        **config: Any,
    ):
        created, _ = backdrop.registry.create({"name": name, **config})
        if records:
            prepared = prepare_records(records, created, now or datetime.now(UTC))
            backdrop.engine.records.save(name, prepared)
        return created

    return make
