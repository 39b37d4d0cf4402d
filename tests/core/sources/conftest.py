"""A data set on each engine, a real file server, and a way to add sources."""

from __future__ import annotations

import pytest

from backdrop.core.data_sets import Registry
from backdrop.core.sources.config import from_request
from backdrop.core.sources.fetch import Limits
from backdrop.core.sources.store import Sources, new_id, now
from tests.file_server import FileServer

LIMITS = Limits(max_bytes=1_000_000, timeout=1, allow_private=True)


@pytest.fixture
def server():
    with FileServer() as running:
        yield running


@pytest.fixture
def stored(engine):
    Registry(engine).create({"name": "pulled"})
    return engine


@pytest.fixture
def add_source(stored):
    def add(url: str, **fields):
        body = {"url": url, "format": "csv", "schedule": "every 1h", **fields}
        config = from_request(body, "pulled", new_id(), now().isoformat())
        Sources(stored).add(config)
        return config.id

    return add
