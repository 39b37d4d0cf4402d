"""Uploads behave the same on every storage engine: one transaction where the
engine has ``save_batches``, else checked whole first (SPEC 8, 9)."""

from __future__ import annotations

from backdrop.core.query import Where
from backdrop.settings import Settings
from tests.write.test_every_engine import api  # noqa: F401 - the per-engine write app
from tests.write.test_uploads_api import multipart

URL = "/data/group/type/upload"


def _upload(client, auth, data: bytes):
    body, content_type = multipart(data, "data.csv")
    return client.post(URL, data=body, headers=auth, content_type=content_type)


def _csv(numbers, bad_at: int | None = None) -> bytes:
    rows = [b"_timestamp,num"]
    for n in numbers:
        day = b"2024-13-01" if n == bad_at else b"2024-01-01"
        rows.append(day + b"T00:00:00Z,%d" % n)
    return b"\n".join(rows) + b"\n"


def test_a_file_spanning_batches_is_stored_whole_or_not_at_all(api, engine):  # noqa: F811
    client, auth = api
    client.application.extensions["backdrop"].settings = Settings(upload_batch_size=100)
    response = _upload(client, auth, _csv(range(1000)))
    assert response.status_code == 200, response.get_json()
    assert engine.records.count("things") == 1000
    response = _upload(client, auth, _csv(range(1000, 3000), bad_at=2500))
    assert response.status_code == 400
    assert response.get_json()["messages"] == [
        "row 1502: 2024-13-01T00:00:00Z in the _timestamp field is not a valid date"
    ]
    assert sorted(r["num"] for r in engine.records.find("things", Where())) == list(range(1000))
