"""``GET /`` on the read and write apps: what the app is and where to go."""

from __future__ import annotations

import pytest

from backdrop import __version__, read, write
from backdrop.settings import Settings


@pytest.fixture(params=["read", "write"])
def app_name(request):
    return request.param


def make(app_name, tmp_path, **settings):
    factory = {"read": read.create_app, "write": write.create_app}[app_name]
    return factory(Settings(database_url=f"sqlite:///{tmp_path}/i.db", **settings))


def test_the_index_names_the_app_and_links_docs_status_and_admin(app_name, tmp_path):
    app = make(app_name, tmp_path)
    response = app.test_client().get("/", base_url="http://backdrop.test:3038")
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == f"Backdrop {app_name} API"
    assert body["version"] == __version__
    assert body["links"]["docs"] == "/docs"
    assert body["links"]["status"] == "/_status"
    assert body["links"]["admin"] == "http://backdrop.test:3040/"
    assert body["links"]["data"] == "/data/<data_group>/<data_type>"
    app.extensions["backdrop"].engine.close()


def test_the_admin_link_follows_the_setting(app_name, tmp_path):
    app = make(app_name, tmp_path, admin_url="https://admin.example/")
    assert app.test_client().get("/").get_json()["links"]["admin"] == "https://admin.example/"
    app.extensions["backdrop"].engine.close()


def test_the_read_index_keeps_cors(tmp_path):
    app = make("read", tmp_path)
    assert app.test_client().get("/").headers["Access-Control-Allow-Origin"] == "*"
    app.extensions["backdrop"].engine.close()
