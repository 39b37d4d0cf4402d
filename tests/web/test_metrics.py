"""``GET /metrics``: Prometheus text, low-cardinality labels, and exact counts
summed over every gunicorn worker."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from backdrop.read import create_app as create_read_app
from backdrop.settings import Settings
from backdrop.testing import start_app
from backdrop.write import create_app as create_write_app

FAMILIES = {
    "backdrop_http_requests",
    "backdrop_http_request_duration_seconds",
    "backdrop_records_written",
    "backdrop_query_duration_seconds",
    "backdrop_uploads",
    "backdrop_transform_runs",
    "backdrop_source_runs",
    "backdrop_database_errors",
}


def samples(text: str) -> dict[tuple, float]:
    """(sample name, sorted labels) → value, for every sample of a scrape."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(scrape: dict, name: str, **labels) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def read_client(tmp_path):
    app = create_read_app(Settings(database_url=f"sqlite:///{tmp_path}/r.db"))
    yield app.test_client()
    app.extensions["backdrop"].engine.close()


def test_metrics_are_prometheus_text_with_every_family(read_client):
    response = read_client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert names >= FAMILIES


def test_requests_are_labelled_by_route_template_not_path(read_client):
    before = samples(read_client.get("/metrics").text)
    read_client.get("/data/some-group/some-type")
    read_client.get("/data/other-group/other-type")
    read_client.open("/_status", method="BREW")
    text = read_client.get("/metrics").text
    after = samples(text)
    route = "/data/<data_group>/<data_type>"
    labels = {"app": "read", "route": route, "method": "GET", "status": "404"}
    grew = value(after, "backdrop_http_requests_total", **labels) - value(
        before, "backdrop_http_requests_total", **labels
    )
    assert grew == 2
    assert "some-group" not in text and "other-group" not in text
    odd = {"app": "read", "route": "unmatched", "method": "other", "status": "405"}
    assert value(after, "backdrop_http_requests_total", **odd) >= 1
    assert "BREW" not in text


def test_an_unreachable_database_counts_as_a_database_error():
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")
    client = create_read_app(settings).test_client()
    name = "backdrop_database_errors_total"
    before = value(samples(client.get("/metrics").text), name, engine="postgresql")
    assert client.get("/_status").status_code == 503
    after = value(samples(client.get("/metrics").text), name, engine="postgresql")
    assert after == before + 1


def test_read_queries_are_timed_by_shape(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/q.db", admin_token="a")
    write = create_write_app(settings).test_client()
    token = write.post(
        "/data-sets", json={"name": "shapes"}, headers={"Authorization": "Bearer a"}
    ).get_json()["bearer_token"]
    write.post(
        "/data/shapes/shapes",
        json={"_timestamp": "2024-01-01T00:00:00Z", "kind": "a"},
        headers={"Authorization": f"Bearer {token}"},
    )
    read = create_read_app(settings).test_client()
    name = "backdrop_query_duration_seconds_count"
    queries = {
        "raw": "",
        "grouped": "?group_by=kind",
        "period": "?period=day&duration=2",
        "grouped_period": "?period=day&duration=2&group_by=kind",
    }
    before = samples(read.get("/metrics").text)
    for query in queries.values():
        assert read.get(f"/data/shapes/shapes{query}").status_code == 200
    after = samples(read.get("/metrics").text)
    for shape in queries:
        assert value(after, name, shape=shape) == value(before, name, shape=shape) + 1


@pytest.mark.slow
def test_exact_counts_over_two_gunicorn_workers(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left by an earlier server")
    env = {
        **os.environ,
        "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/m.db",
        "BACKDROP_ADMIN_TOKEN": "m-admin",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    app = start_app("write", env, tmp_path / "write.log", workers=2)
    try:
        admin = {"Authorization": "Bearer m-admin"}
        created = requests.post(
            f"{app.url}/data-sets", json={"name": "m"}, headers=admin, timeout=10
        )
        token = created.json()["bearer_token"]
        auth = {"Authorization": f"Bearer {token}"}
        batch = [{"count": i} for i in range(3)]

        def write(_: int) -> int:
            return requests.post(
                f"{app.url}/data/m/m", json=batch, headers=auth, timeout=10
            ).status_code

        def refused(_: int) -> int:
            return requests.post(f"{app.url}/data/m/m", json=batch, timeout=10).status_code

        def worker_pids() -> set[str]:
            return {p.stem.rsplit("_", 1)[1] for p in metrics_dir.glob("counter_*.db")} - {"1"}

        # Rounds of concurrent writes until both workers have answered some (a
        # threaded worker may take a whole round alone); then exact counts.
        writes = 0
        with ThreadPoolExecutor(8) as pool:
            while len(worker_pids()) < 2 and writes < 800:
                assert set(pool.map(write, range(40))) == {200}
                writes += 40
            assert set(pool.map(refused, range(12))) == {401}
        scrape = samples(requests.get(f"{app.url}/metrics", timeout=10).text)
    finally:
        app.stop()
    assert not (metrics_dir / "counter_1.db").exists(), "the stale file was removed at start"
    assert len(worker_pids()) == 2, "both workers answered requests"
    route = "/data/<data_group>/<data_type>"
    requests_total = "backdrop_http_requests_total"
    assert (
        value(scrape, requests_total, app="write", route=route, method="POST", status="200")
        == writes
    )
    assert (
        value(scrape, requests_total, app="write", route=route, method="POST", status="401") == 12
    )
    assert (
        value(scrape, requests_total, app="write", route="/data-sets", method="POST", status="201")
        == 1
    )
    assert value(scrape, "backdrop_records_written_total", operation="write") == writes * 3
    duration = "backdrop_http_request_duration_seconds_count"
    assert value(scrape, duration, app="write", route=route, method="POST") == writes + 12


def test_transform_runs_count_by_type_and_outcome(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/t.db", admin_token="a")
    write = create_write_app(settings).test_client()
    admin = {"Authorization": "Bearer a"}
    token = write.post("/data-sets", json={"name": "src"}, headers=admin).get_json()["bearer_token"]
    transform = {
        "type": "rollup",
        "query": {"period": "week", "collect": ["count:sum"]},
        "output": {"data_group": "src", "data_type": "weekly"},
    }
    assert write.post("/data-sets/src/transforms", json=transform, headers=admin).status_code == 201
    before = samples(write.get("/metrics").text)
    record = {"_timestamp": "2024-01-03T00:00:00Z", "count": 2}
    write.post("/data/src/src", json=record, headers={"Authorization": f"Bearer {token}"})
    after = samples(write.get("/metrics").text)
    runs = "backdrop_transform_runs_total"
    assert (
        value(after, runs, type="rollup", outcome="ok")
        == value(before, runs, type="rollup", outcome="ok") + 1
    )
    written = "backdrop_records_written_total"
    assert value(after, written, operation="transform") > value(
        before, written, operation="transform"
    )
