"""The write API behaves the same on every storage engine (SPEC 9)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from backdrop.core.data_sets import Registry
from backdrop.core.query import Where
from backdrop.settings import Settings
from backdrop.write import create_app

URL = "/data/group/type"


@pytest.fixture
def api(engine, tmp_path):
    """A write app whose services run on ``engine``; returns (client, auth headers)."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/unused.db", admin_token="adm"))
    services = app.extensions["backdrop"]
    services.engine.close()
    services.engine = engine
    services.registry = Registry(engine)
    client = app.test_client()
    created = client.post(
        "/data-sets",
        json={"name": "things", "data_group": "group", "data_type": "type"},
        headers={"Authorization": "Bearer adm"},
    )
    assert created.status_code == 201, created.get_json()
    return client, {"Authorization": f"Bearer {created.get_json()['bearer_token']}"}


def ids(engine) -> list[str]:
    return sorted(r["_id"] for r in engine.records.find("things", Where()))


def test_batches_replace_by_id_and_invalid_batches_store_nothing(api, engine):
    client, auth = api
    batch = [{"_id": f"r{i}", "value": i, "_timestamp": "2024-01-01T00:00:00Z"} for i in range(5)]
    assert client.post(URL, json=batch, headers=auth).status_code == 200
    assert client.post(URL, json=[{"_id": "r0", "value": 99}], headers=auth).status_code == 200
    bad = [{"_id": "new", "value": 1}, {"_id": "r1", "bad-key": 1}]
    assert client.post(URL, json=bad, headers=auth).status_code == 400
    assert ids(engine) == [f"r{i}" for i in range(5)]
    assert engine.records.get("things", "r0")["value"] == 99


def test_patch_recomputes_period_keys(api, engine):
    client, auth = api
    client.post(URL, json={"_id": "a", "_timestamp": "2024-01-01T00:00:00Z"}, headers=auth)
    response = client.patch(f"{URL}/a", json={"_timestamp": "2024-05-05T00:00:00Z"}, headers=auth)
    assert response.status_code == 200
    rows = engine.records.aggregate("things", Where(), (), "month", ())
    assert [row["_start_at"] for row in rows] == [datetime(2024, 5, 1, tzinfo=UTC)]


def test_delete_ids_with_url_characters_and_empty(api, engine):
    client, auth = api
    client.post(URL, json=[{"_id": "a/b:c+d.e"}, {"_id": "keep"}], headers=auth)
    response = client.delete(f"{URL}/{quote('a/b:c+d.e', safe='')}", headers=auth)
    assert response.status_code == 200
    assert ids(engine) == ["keep"]
    assert client.put(URL, json=[], headers=auth).status_code == 200
    assert ids(engine) == []
