"""Every response names its request id: the client's, when usable, else a new one."""

from __future__ import annotations

import re

import pytest

from backdrop.read import create_app
from backdrop.settings import Settings


@pytest.fixture
def client(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/r.db"))
    yield app.test_client()
    app.extensions["backdrop"].engine.close()


def test_a_request_without_an_id_gets_a_new_one_each_time(client):
    first = client.get("/_status").headers["X-Request-Id"]
    second = client.get("/_status").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize("header", ["X-Request-Id", "GOVUK-Request-Id", "govuk-request-id"])
def test_the_clients_id_is_echoed(client, header):
    response = client.get("/_status", headers={header: "abc-123.4:5"})
    assert response.headers["X-Request-Id"] == "abc-123.4:5"


def test_x_request_id_wins_over_govuk_request_id(client):
    response = client.get("/_status", headers={"X-Request-Id": "x1", "GOVUK-Request-Id": "g1"})
    assert response.headers["X-Request-Id"] == "x1"


@pytest.mark.parametrize("bad", ["", "has space", "a" * 201, 'quote"d', "new\\line", "é"])
def test_an_unusable_id_is_replaced_not_copied(client, bad):
    header = bad.encode("utf-8").decode("latin-1")  # as the raw bytes arrive
    response = client.get("/_status", headers={"X-Request-Id": header})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


def test_errors_carry_the_id_too(client):
    response = client.get("/data/no/such", headers={"X-Request-Id": "lost-1"})
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "lost-1"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Expose-Headers"] == "X-Request-Id"


def test_a_server_error_body_names_the_id(tmp_path):
    # Nothing listens on port 1: the database is unreachable, so /_status is a 503.
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")
    client = create_app(settings).test_client()
    response = client.get("/_status", headers={"X-Request-Id": "outage-7"})
    assert response.status_code == 503
    assert response.get_json()["request_id"] == "outage-7"
    assert response.headers["X-Request-Id"] == "outage-7"


def test_a_client_error_body_keeps_the_shape_clients_match(client):
    response = client.get("/data/no/such")
    assert response.get_json() == {"status": "error", "message": "data_set not found"}
