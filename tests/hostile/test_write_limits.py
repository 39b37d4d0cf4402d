"""Huge and hostile write bodies get a clear 4xx, on every engine (SPEC 3, 4)."""

from __future__ import annotations

import gzip
import time
from urllib.parse import quote

import orjson
import pytest

from backdrop.core.query import Where
from backdrop.settings import Settings
from backdrop.write import create_app

URL = "/data/group/type"


def stored(engine) -> list[dict]:
    return engine.records.find("things", Where())


def test_an_id_of_2700_characters_is_a_400_naming_the_limit(api, engine):
    client, auth = api
    response = client.post(URL, json={"_id": "x" * 2700, "count": 1}, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["messages"] == [
        "record 0: _id is 2700 bytes long; the limit is 512 bytes"
    ]
    assert stored(engine) == []
    assert client.post(URL, json={"_id": "x" * 512}, headers=auth).status_code == 200
    assert [r["_id"] for r in stored(engine)] == ["x" * 512]


def test_patch_and_delete_of_an_overlong_id_are_400s_not_404s(api):
    client, auth = api
    long_id = quote("é" * 300)  # 600 bytes of UTF-8
    for response in (
        client.patch(f"{URL}/{long_id}", json={"count": 1}, headers=auth),
        client.delete(f"{URL}/{long_id}", headers=auth),
    ):
        assert response.status_code == 400
        assert response.get_json()["message"] == "_id is 600 bytes long; the limit is 512 bytes"


def test_auto_ids_longer_than_the_limit_are_refused(api, engine):
    client, _ = api
    created = client.post(
        "/data-sets",
        json={"name": "autos", "auto_ids": ["name"]},
        headers={"Authorization": "Bearer adm"},
    )
    auth = {"Authorization": f"Bearer {created.get_json()['bearer_token']}"}
    response = client.post("/data/autos/autos", json={"name": "n" * 600}, headers=auth)
    assert response.status_code == 400
    assert "the limit is 512 bytes" in response.get_json()["messages"][0]


@pytest.mark.parametrize(
    "literal", ["9223372036854775808", "-9223372036854775809", "18446744073709551615"]
)
def test_integers_beyond_signed_64_bits_are_a_400_naming_record_and_key(api, engine, literal):
    client, auth = api
    body = f'[{{"count": 1}}, {{"big": {literal}}}]'.encode()
    response = client.post(URL, data=body, headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["messages"] == [
        "record 1: big is an integer outside the signed 64-bit range"
    ]
    assert stored(engine) == []


def test_integers_too_long_for_orjson_are_not_silently_stored_as_floats(api, engine):
    client, auth = api
    body = b'{"big": 123456789012345678901234567890}'
    response = client.post(URL, data=body, headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "big is an integer outside" in response.get_json()["messages"][0]
    edge = b'{"_id": "12345678901234567890123", "low": -9223372036854775808, "flt": 1e25}'
    response = client.post(URL, data=edge, headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 200, response.get_json()
    (record,) = stored(engine)
    assert record["low"] == -(2**63) and record["flt"] == 1e25


def test_a_batch_over_the_record_limit_is_a_413_before_any_validation(tmp_path):
    app = create_app(
        Settings(
            database_url=f"sqlite:///{tmp_path}/u.db", admin_token="adm", max_batch_records=1000
        )
    )
    client = app.test_client()
    created = client.post(
        "/data-sets", json={"name": "things"}, headers={"Authorization": "Bearer adm"}
    )
    auth = {"Authorization": f"Bearer {created.get_json()['bearer_token']}"}
    assert client.post("/data/things/things", json=[{}] * 1000, headers=auth).status_code == 200
    response = client.post("/data/things/things", json=[{}] * 1001, headers=auth)
    assert response.status_code == 413
    assert response.get_json()["message"] == (
        "The batch has 1001 records; the limit is 1000 records per request "
        "(BACKDROP_MAX_BATCH_RECORDS): send it in smaller batches"
    )


def test_the_probe_body_of_3_4_million_empty_records_is_a_quick_413(tmp_path):
    """10 MB of ``{}``: the default limit (100,000) refuses it within 2 s of
    CPU (CPU time, so other processes on the machine do not change the count)."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/u.db", admin_token="adm"))
    client = app.test_client()
    created = client.post(
        "/data-sets", json={"name": "things"}, headers={"Authorization": "Bearer adm"}
    )
    auth = {"Authorization": f"Bearer {created.get_json()['bearer_token']}"}
    body = b"[" + b",".join([b"{}"] * 3_400_000) + b"]"
    assert len(body) < 10 * 1024 * 1024
    began = time.process_time()
    response = client.post(
        "/data/things/things", data=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "the limit is 100000 records per request" in response.get_json()["message"]
    assert time.process_time() - began < 2


def test_half_a_million_empty_gzip_members_are_a_quick_400(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/u.db", admin_token="adm"))
    client = app.test_client()
    created = client.post(
        "/data-sets", json={"name": "things"}, headers={"Authorization": "Bearer adm"}
    )
    auth = {"Authorization": f"Bearer {created.get_json()['bearer_token']}"}
    body = gzip.compress(b"", mtime=0) * 500_000 + gzip.compress(b"[]", mtime=0)
    began = time.process_time()
    response = client.post(
        "/data/things/things",
        data=body,
        headers={**auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "Error decompressing gzip body: more than 1000 gzip members"
    )
    assert time.process_time() - began < 2
    few = gzip.compress(b"[", mtime=0) + gzip.compress(orjson.dumps({"count": 1}) + b"]", mtime=0)
    response = client.post(
        "/data/things/things",
        data=few,
        headers={**auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.get_json()
