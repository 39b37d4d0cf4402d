"""The dashboard routes over HTTP (SPEC 11): write app behind the admin
token, published dashboards on the read app without one."""

from __future__ import annotations

import pytest

from backdrop.read import create_app as create_read_app
from backdrop.settings import Settings
from tests.write.conftest import ADMIN_TOKEN

TILE = {"title": "Visits", "data_set": "visits", "chart": "bar", "query": {"group_by": "page"}}


@pytest.fixture
def settings(tmp_path):
    return Settings(
        database_url=f"sqlite:///{tmp_path}/t.db",
        admin_token=ADMIN_TOKEN,
        dashboard_max_bytes=2000,
        dashboard_quota_bytes=3000,
    )


@pytest.fixture
def reader(settings):
    app = create_read_app(settings)
    yield app.test_client()
    app.extensions["backdrop"].engine.close()


@pytest.fixture
def dashboard(client, admin, make_data_set):
    make_data_set("visits")
    response = client.post(
        "/dashboards", json={"title": "Site visits", "tiles": [TILE]}, headers=admin
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_then_list_show_and_change(client, admin, dashboard):
    assert dashboard["id"] == "site-visits" and dashboard["tiles"][0]["options"] == {}
    [listed] = client.get("/dashboards", headers=admin).get_json()
    assert {k: listed[k] for k in ("id", "title", "size", "whitelisted", "protected")} == {
        "id": "site-visits",
        "title": "Site visits",
        "size": dashboard["size"],
        "whitelisted": False,
        "protected": False,
    }
    assert (
        client.get("/dashboards/site-visits", headers=admin).get_json()["tiles"]
        == dashboard["tiles"]
    )
    changed = client.patch("/dashboards/site-visits", json={"title": "Visits"}, headers=admin)
    assert changed.status_code == 200 and changed.get_json()["title"] == "Visits"
    deleted = client.delete("/dashboards/site-visits", headers=admin)
    assert deleted.get_json() == {"status": "ok", "message": "Deleted dashboard site-visits"}
    assert client.get("/dashboards/site-visits", headers=admin).status_code == 404


def test_the_schema_is_served_to_anyone(client, reader):
    for app in (client, reader):
        response = app.get("/dashboards/schema")
        assert response.status_code == 200
        assert response.get_json()["$defs"]["tile"]["properties"]["chart"]["enum"][0] == "line"


def test_every_other_route_needs_the_admin_token(client, dashboard):
    for method, path in (
        ("get", "/dashboards"),
        ("get", "/dashboards/site-visits"),
        ("delete", "/dashboards/site-visits"),
        ("post", "/dashboards/site-visits/protect"),
    ):
        assert getattr(client, method)(path).status_code == 401


def test_an_invalid_dashboard_is_400_with_the_schema_messages(client, admin):
    response = client.post(
        "/dashboards", json={"title": "t", "tiles": [{"chart": "pie"}]}, headers=admin
    )
    body = response.get_json()
    assert response.status_code == 400
    assert body["message"].startswith("Invalid dashboard: tiles[0]")
    assert 'tiles[0].chart: "pie" is not allowed' in " ".join(body["messages"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[1, 2", "Error parsing JSON"),
        ("", "Expected JSON request body but received zero bytes."),
    ],
)
def test_bad_bodies_are_400(client, admin, body, message):
    response = client.post(
        "/dashboards", data=body, headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.get_json()["message"].startswith(message)


def test_a_patch_of_a_field_that_cannot_change_is_400(client, admin, dashboard):
    response = client.patch("/dashboards/site-visits", json={"size": 1}, headers=admin)
    assert response.status_code == 400
    assert response.get_json()["message"] == "These dashboard fields cannot be changed: size"


def test_an_unknown_format_is_400(client, admin):
    response = client.post("/dashboards?format=grafana", json={}, headers=admin)
    assert (
        response.status_code == 400 and "Unknown format 'grafana'" in response.get_json()["message"]
    )


def test_a_dashboard_over_the_size_limit_is_413(client, admin, make_data_set):
    big = {"title": "Big", "description": "x" * 2000, "tiles": []}
    response = client.post("/dashboards", json=big, headers=admin)
    assert response.status_code == 413
    assert "the limit is 2000 bytes" in response.get_json()["message"]
    assert client.get("/dashboards", headers=admin).get_json() == []


def test_protected_is_403_on_patch_and_delete(client, admin, dashboard):
    assert client.post("/dashboards/site-visits/protect", headers=admin).get_json()["whitelisted"]
    for response in (
        client.patch("/dashboards/site-visits", json={"title": "x"}, headers=admin),
        client.delete("/dashboards/site-visits", headers=admin),
    ):
        assert response.status_code == 403
        assert response.get_json()["message"] == "Dashboard site-visits is protected"
    undone = client.delete("/dashboards/site-visits/protect", headers=admin).get_json()
    assert undone["protected"] is False and undone["whitelisted"] is True
    unlisted = client.delete("/dashboards/site-visits/whitelist", headers=admin).get_json()
    assert unlisted["whitelisted"] is False
    assert client.delete("/dashboards/site-visits", headers=admin).status_code == 200


def test_507_when_eviction_cannot_make_room(client, admin):
    for n in range(2):
        body = {"title": f"d{n}", "description": "x" * 1400, "tiles": []}
        assert client.post("/dashboards", json=body, headers=admin).status_code == 201
        client.post(f"/dashboards/d{n}/whitelist", headers=admin)
    body = {"title": "d2", "description": "x" * 1400, "tiles": []}
    response = client.post("/dashboards", json=body, headers=admin)
    assert response.status_code == 507
    assert response.get_json()["message"].startswith("Dashboard storage is full")
    usage = client.get("/dashboards/usage", headers=admin).get_json()
    assert usage["count"] == 2 and usage["quota_bytes"] == 3000


def test_a_published_dashboard_is_on_the_read_app_without_a_token(client, admin, reader, dashboard):
    assert reader.get("/dashboards/site-visits").status_code == 404  # not published yet
    client.patch("/dashboards/site-visits", json={"published": True}, headers=admin)
    response = reader.get("/dashboards/site-visits")
    assert response.status_code == 200
    [tile] = response.get_json()["tiles"]
    assert tile["path"] == "/data/visits/visits" and tile["query"] == {"group_by": "page"}
    assert reader.get(tile["path"], query_string=tile["query"]).status_code == 200


@pytest.mark.parametrize("flag", ["queryable", "published"])
def test_public_tiles_respect_the_data_sets_flags(client, admin, reader, dashboard, flag):
    client.patch("/dashboards/site-visits", json={"published": True}, headers=admin)
    client.patch("/data-sets/visits", json={flag: False}, headers=admin)
    assert reader.get("/dashboards/site-visits").get_json()["tiles"] == []
    assert len(client.get("/dashboards/site-visits", headers=admin).get_json()["tiles"]) == 1


def test_reserved_and_malformed_ids_are_refused(client, admin):
    body = {"slug": "schema", "title": "x", "modules": []}
    response = client.post("/dashboards?format=spotlight", json=body, headers=admin)
    assert (
        response.status_code == 400
        and "Invalid dashboard id 'schema'" in response.get_json()["message"]
    )
