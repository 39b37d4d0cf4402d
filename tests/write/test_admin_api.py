"""Admin API (SPEC 6) on the write app."""

from __future__ import annotations

import pytest

from backdrop.settings import Settings
from backdrop.write import create_app


def test_create_returns_the_config_and_the_token_once(client, admin):
    response = client.post("/data-sets", json={"name": "things", "realtime": True}, headers=admin)
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "things"
    assert body["data_group"] == body["data_type"] == "things"
    assert body["realtime"] is True and body["raw_queries_allowed"] is True
    assert body["max_age_expected"] == 2678400 and body["capped_size"] == 0
    assert isinstance(body["bearer_token"], str) and len(body["bearer_token"]) >= 32
    assert "token_hash" not in body
    shown = client.get("/data-sets/things", headers=admin).get_json()
    assert "bearer_token" not in shown and "token_hash" not in shown
    assert shown == {k: v for k, v in body.items() if k != "bearer_token"}


def test_the_created_token_writes(client, admin):
    token = client.post("/data-sets", json={"name": "things"}, headers=admin).get_json()
    response = client.post(
        "/data/things/things",
        json={"value": 1},
        headers={"Authorization": f"Bearer {token['bearer_token']}"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "second",
    [{"name": "things"}, {"name": "other", "data_group": "g", "data_type": "t"}],
)
def test_create_conflicts_are_409(client, admin, second):
    first = {"name": "things", "data_group": "g", "data_type": "t"}
    assert client.post("/data-sets", json=first, headers=admin).status_code == 201
    response = client.post("/data-sets", json=second, headers=admin)
    assert response.status_code == 409
    assert response.get_json()["status"] == "error"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "_private"},
        {"name": "Upper"},
        {"name": "trailing\n"},
        {"name": "x", "realtime": "yes"},
        {"nope": 1},
        [],
    ],
)
def test_create_rejects_bad_configs(client, admin, body):
    response = client.post("/data-sets", json=body, headers=admin)
    assert response.status_code == 400
    assert response.get_json()["message"]


def test_list_and_show_never_show_tokens(client, admin, make_data_set):
    make_data_set("bbb")
    make_data_set("aaa")
    listing = client.get("/data-sets", headers=admin).get_json()
    assert [c["name"] for c in listing] == ["aaa", "bbb"]
    assert all("bearer_token" not in c and "token_hash" not in c for c in listing)


def test_show_unknown_is_404(client, admin):
    response = client.get("/data-sets/nope", headers=admin)
    assert response.status_code == 404
    assert response.get_json()["message"] == 'No collection exists with name "nope"'


def test_update_changes_fields(client, admin, make_data_set):
    make_data_set("things")
    response = client.patch(
        "/data-sets/things", json={"published": False, "data_type": "moved"}, headers=admin
    )
    assert response.status_code == 200
    assert response.get_json()["published"] is False
    assert client.get("/data-sets/things", headers=admin).get_json()["data_type"] == "moved"


def test_update_rejects_the_name_and_bad_values(client, admin, make_data_set):
    make_data_set("things")
    assert client.patch("/data-sets/things", json={"name": "x"}, headers=admin).status_code == 400
    response = client.patch("/data-sets/things", json={"capped_size": -1}, headers=admin)
    assert response.status_code == 400
    assert client.patch("/data-sets/nope", json={}, headers=admin).status_code == 404


def test_rotate_token_replaces_the_old_one(client, admin, make_data_set):
    old = make_data_set("things")
    response = client.post("/data-sets/things/token", headers=admin)
    assert response.status_code == 200
    new = response.get_json()["bearer_token"]
    assert new != old
    write = "/data/things/things"
    old_auth = {"Authorization": f"Bearer {old}"}
    assert client.post(write, json={"value": 1}, headers=old_auth).status_code == 401
    new_auth = {"Authorization": f"Bearer {new}"}
    assert client.post(write, json={"value": 1}, headers=new_auth).status_code == 200


def test_delete_removes_the_data_set_and_its_records(client, admin, auth, stored):
    client.post("/data/group/type", json={"value": 1}, headers=auth)
    response = client.delete("/data-sets/things", headers=admin)
    assert response.get_json() == {"status": "ok", "message": "Deleted things"}
    assert client.get("/data-sets/things", headers=admin).status_code == 404
    assert client.post("/data/group/type", json={}, headers=auth).status_code == 404


def test_delete_unknown_is_404(client, admin):
    response = client.delete("/data-sets/nope", headers=admin)
    assert response.status_code == 404
    assert response.get_json()["message"] == 'No collection exists with name "nope"'


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/data-sets"),
        ("get", "/data-sets"),
        ("get", "/data-sets/things"),
        ("patch", "/data-sets/things"),
        ("post", "/data-sets/things/token"),
        ("delete", "/data-sets/things"),
    ],
)
def test_every_admin_route_needs_the_admin_token(client, make_data_set, token, method, path):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Bearer {token}"}):
        response = getattr(client, method)(path, json={"name": "x"}, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "bearer"


def test_without_an_admin_token_the_admin_api_is_403(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/t.db"))
    response = app.test_client().get("/data-sets", headers={"Authorization": "Bearer x"})
    assert response.status_code == 403
    assert "BACKDROP_ADMIN_TOKEN" in response.get_json()["message"]
    app.extensions["backdrop"].engine.close()
