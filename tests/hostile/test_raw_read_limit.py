"""A raw read never holds a whole big data set in one worker: past
BACKDROP_MAX_RAW_RECORDS it is a 400 pointing to limit and the export route."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backdrop.core.data_sets import Registry
from backdrop.core.records import prepare_records
from backdrop.read import create_app
from backdrop.settings import Settings

MESSAGE = (
    "This query would return more than 5 records (BACKDROP_MAX_RAW_RECORDS): add limit, "
    "narrow start_at/end_at or filter_by, or read the whole data set page by page from "
    "/data/<group>/<type>/records"
)


@pytest.fixture
def client(engine, tmp_path):
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path}/u.db", max_raw_records=5, log_level="WARNING")
    )
    services = app.extensions["backdrop"]
    services.engine.close()
    services.engine, services.registry = engine, Registry(engine)
    config, _ = services.registry.create({"name": "raw"})
    records = [{"_id": f"r{i}", "kind": "a" if i < 5 else "b"} for i in range(6)]
    engine.records.save("raw", prepare_records(records, config, datetime.now(UTC)))
    return app.test_client()


def test_a_raw_read_past_the_limit_is_a_400_on_every_engine(client):
    for path in ("/data/raw/raw", "/data/raw/raw?limit=10", "/data/raw/raw?format=csv"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert response.get_json()["message"] == MESSAGE


def test_reads_within_the_limit_and_grouped_reads_are_answered(client):
    assert len(client.get("/data/raw/raw?limit=5").get_json()["data"]) == 5
    assert len(client.get("/data/raw/raw?filter_by=kind:a").get_json()["data"]) == 5
    grouped = client.get("/data/raw/raw?group_by=kind").get_json()["data"]
    assert sorted(row["_count"] for row in grouped) == [1, 5]
    assert client.get("/data/raw/raw/records?limit=10").status_code == 200  # the export route
