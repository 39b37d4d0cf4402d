"""The sources admin API (SPEC 12) and /_status/sources on the read app."""

from __future__ import annotations

from backdrop.core.sources.fetch import Limits
from backdrop.core.sources.run import run_source
from backdrop.read import create_app as create_read_app
from tests.file_server import FileServer, Reply

SOURCE = {"url": "https://example.org/latest.csv", "format": "csv", "schedule": "0 2 * * *",
          "headers": {"Authorization": "env:EXAMPLE_TOKEN"},
          "mapping": {"rename": {"Date": "_timestamp"}, "drop": ["notes"]}}  # fmt: skip


def test_add_list_and_remove_a_source(client, admin):
    client.post("/data-sets", json={"name": "pulled"}, headers=admin)
    added = client.post("/data-sets/pulled/sources", json=SOURCE, headers=admin)
    assert added.status_code == 201, added.json
    source = added.json
    assert source["data_set"] == "pulled" and source["mode"] == "append" and source["id"]
    listed = client.get("/data-sets/pulled/sources", headers=admin).json
    assert [s["id"] for s in listed] == [source["id"]] and listed[0]["last_run"] is None
    assert client.get(f"/data-sets/pulled/sources/{source['id']}/runs", headers=admin).json == []
    removed = client.delete(f"/data-sets/pulled/sources/{source['id']}", headers=admin)
    assert removed.json == {"status": "ok", "message": f"Deleted source {source['id']} of pulled"}
    assert client.get("/data-sets/pulled/sources", headers=admin).json == []


def test_bad_sources_unknown_data_sets_and_ids_are_clear_4xx(client, admin):
    client.post("/data-sets", json={"name": "pulled"}, headers=admin)
    bad = client.post("/data-sets/pulled/sources", json={**SOURCE, "mode": "merge"}, headers=admin)
    assert bad.status_code == 400 and bad.json["message"] == "mode must be one of append, replace"
    secret = {**SOURCE, "headers": {"Authorization": "Bearer abc"}}
    refused = client.post("/data-sets/pulled/sources", json=secret, headers=admin)
    assert refused.status_code == 400 and "env:VARIABLE" in refused.json["message"]
    assert client.post("/data-sets/nope/sources", json=SOURCE, headers=admin).status_code == 404
    assert client.delete("/data-sets/pulled/sources/missing", headers=admin).status_code == 404
    assert client.get("/data-sets/pulled/sources/missing/runs", headers=admin).status_code == 404
    assert client.get("/data-sets/pulled/sources").status_code == 401


def test_status_sources_says_which_failed_last_time(app, client, admin, tmp_path):
    client.post("/data-sets", json={"name": "pulled"}, headers=admin)
    read = create_read_app(app.extensions["backdrop"].settings).test_client()
    assert read.get("/_status/sources").json == {
        "status": "ok",
        "sources": None,
        "message": "All sources ran fine last time",
    }
    engine = app.extensions["backdrop"].engine
    with FileServer() as server:
        server.routes["/x.csv"] = Reply(b"broken", 500)
        body = {**SOURCE, "url": f"{server.url}/x.csv", "headers": {}}
        source = client.post("/data-sets/pulled/sources", json=body, headers=admin).json
        run_source(engine, source["id"], Limits(1000, 1, allow_private=True), {})
    status = read.get("/_status/sources").json
    assert status["status"] == "not okay" and status["message"] == "1 source failed last time"
    assert status["sources"][0]["id"] == source["id"]
    assert status["sources"][0]["error"].startswith("HTTP 500 from")
    runs = client.get(f"/data-sets/pulled/sources/{source['id']}/runs", headers=admin).json
    assert runs[0]["status"] == "failed" and runs[0]["http_status"] == 500
