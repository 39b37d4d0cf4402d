"""An admin app on a temporary SQLite file, and a client signed in to it."""

from __future__ import annotations

import re

import pytest

from backdrop.admin import create_app
from backdrop.core import writes
from backdrop.settings import Settings
from backdrop.web.extension import services

ADMIN_TOKEN = "admin-token-for-tests"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


@pytest.fixture
def settings(tmp_path):
    return Settings(
        database_url=f"sqlite:///{tmp_path}/backdrop.db",
        admin_token=ADMIN_TOKEN,
        secret_key="test-secret-key",
        write_url="https://write.example.org",
        read_url="https://read.example.org/",
    )


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


class SignedIn:
    """A test client with a session, posting forms with their CSRF token."""

    def __init__(self, client):
        self.client = client
        page = client.get("/sign-in").text
        response = client.post("/sign-in", data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(page)})
        assert response.status_code == 302
        self.csrf = csrf_of(client.get("/data-sets").text)

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path, data=None, **kwargs):
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


@pytest.fixture
def admin(client):
    return SignedIn(client)


@pytest.fixture
def make_data_set(app):
    """Create a data set through the registry and store ``records`` in it."""

    def make(name, records=(), **config):
        with app.app_context():
            backdrop = services()
            created, token = backdrop.registry.create({"name": name, **config})
            if records:
                writes.save(backdrop.engine, backdrop.dispatcher, created, list(records))
            return token

    return make


def visits(weeks=3):
    """Daily records for two channels from Monday 2024-01-01: count is the day
    number on phone, twice that on web."""
    return [
        {"_timestamp": f"2024-01-{day:02d}T12:00:00Z", "channel": channel, "count": day * scale}
        for day in range(1, 7 * weeks + 1)
        for channel, scale in (("web", 2), ("phone", 1))
    ]
