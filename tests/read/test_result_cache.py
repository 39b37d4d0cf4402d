"""The read app's result cache (issue 15), through the Flask test client: two
read apps and a write app on one SQLite file stand for separate processes,
each read app with a cache of its own."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from backdrop.core import result_cache
from backdrop.errors import StorageUnavailable
from backdrop.read import create_app as create_read_app
from backdrop.read.renderers import UNPUBLISHED_WARNING
from backdrop.settings import Settings
from backdrop.write import create_app as create_write_app

ADMIN = {"Authorization": "Bearer admin-secret"}
QUERY = "/data/shop/sales?group_by=region&collect=value:sum"


@dataclass
class Stack:
    write: FlaskClient
    readers: list[FlaskClient]
    apps: list[Flask]
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def post(self, records: list[dict[str, Any]]) -> Any:
        response = self.write.post("/data/shop/sales", json=records, headers=self.auth)
        assert response.status_code == 200, response.get_json()
        return response


@pytest.fixture
def make_stack(tmp_path):
    apps: list[Flask] = []

    def make(cache_bytes: int = 1024 * 1024, readers: int = 2) -> Stack:
        settings = Settings(
            database_url=f"sqlite:///{tmp_path}/shared.db",
            admin_token="admin-secret",
            result_cache_bytes=cache_bytes,
            log_level="WARNING",
        )
        write = create_write_app(settings)
        reads = [create_read_app(settings) for _ in range(readers)]
        apps.extend([write, *reads])
        client = write.test_client()
        created = client.post(
            "/data-sets",
            json={"name": "sales", "data_group": "shop", "data_type": "sales"},
            headers=ADMIN,
        )
        assert created.status_code == 201, created.get_json()
        token = created.get_json()["bearer_token"]
        return Stack(client, [read.test_client() for read in reads], [write, *reads], token)

    yield make
    for app in apps:
        app.extensions["backdrop"].engine.close()


@pytest.fixture
def stack(make_stack) -> Stack:
    made = make_stack()
    made.post(
        [
            {"_id": "a", "region": "north", "value": 1},
            {"_id": "b", "region": "south", "value": 10},
        ]
    )
    return made


def sums(client: FlaskClient, path: str = QUERY) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.get_json()
    return {row["region"]: row["value:sum"] for row in response.get_json()["data"]}


def scrape(client: FlaskClient) -> dict[str, float]:
    """The result-cache samples and the grouped query count of ``/metrics``
    (the counters are per process, so tests compare before and after)."""
    found = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name.startswith("backdrop_result_cache"):
                found[sample.name] = sample.value
            elif sample.name == "backdrop_query_duration_seconds_count":
                found[sample.labels["shape"]] = sample.value
    return found


def change(client: FlaskClient, request) -> dict[str, float]:
    """How the metrics moved while ``request()`` ran."""
    before = scrape(client)
    request()
    after = scrape(client)
    return {name: after[name] - before.get(name, 0) for name in after}


def test_the_same_query_again_is_sent_from_the_cache_with_the_same_bytes(stack):
    reader = stack.readers[0]
    first: list = []
    moved = change(reader, lambda: first.append(reader.get(QUERY)))
    assert (moved["backdrop_result_cache_misses_total"], moved["grouped"]) == (1, 1)
    again: list = []
    moved = change(reader, lambda: again.append(reader.get(QUERY)))
    assert moved["backdrop_result_cache_hits_total"] == 1
    assert moved["backdrop_result_cache_misses_total"] == 0
    assert moved["grouped"] == 0  # no query ran
    assert again[0].data == first[0].data
    for header in ("ETag", "Content-Type", "Cache-Control", "Access-Control-Allow-Origin"):
        assert again[0].headers[header] == first[0].headers[header]
    assert again[0].headers["X-Request-Id"] != first[0].headers["X-Request-Id"]  # per request
    unchanged = reader.get(QUERY, headers={"If-None-Match": first[0].headers["ETag"]})
    assert unchanged.status_code == 304


def test_every_kind_of_write_is_seen_at_once_by_every_read_app(stack):
    north, south = "/data/shop/sales/a", "/data/shop/sales/b"
    writes = [
        (lambda: stack.post([{"_id": "c", "region": "north", "value": 100}]), 101, 10),
        (lambda: stack.write.patch(north, json={"value": 5}, headers=stack.auth), 105, 10),
        (lambda: stack.write.delete(south, headers=stack.auth), 105, None),
        (lambda: stack.write.put("/data/shop/sales", json=[], headers=stack.auth), None, None),
    ]
    for reader in stack.readers:
        assert sums(reader) == {"north": 1, "south": 10}
        assert sums(reader) == {"north": 1, "south": 10}  # now cached
    for write, north_sum, south_sum in writes:
        response = write()
        assert response.status_code == 200, response.get_json()
        expected = {k: v for k, v in (("north", north_sum), ("south", south_sum)) if v}
        for reader in stack.readers:
            assert sums(reader) == expected


def test_a_data_set_dropped_and_made_again_never_gets_the_old_answers(stack):
    reader = stack.readers[0]
    assert sums(reader) == sums(reader) == {"north": 1, "south": 10}
    assert stack.write.delete("/data-sets/sales", headers=ADMIN).status_code == 200
    body = {"name": "sales", "data_group": "shop", "data_type": "sales"}
    created = stack.write.post("/data-sets", json=body, headers=ADMIN)
    assert created.status_code == 201, created.get_json()
    stack.token = created.get_json()["bearer_token"]
    assert sums(reader) == {}
    stack.post([{"_id": "a", "region": "west", "value": 7}])
    assert sums(reader) == {"west": 7}


def test_csv_and_json_of_one_query_are_kept_apart(stack):
    reader = stack.readers[0]
    for _ in range(2):
        as_json = reader.get(QUERY)
        as_csv = reader.get(QUERY + "&format=csv")
        assert as_json.content_type == "application/json"
        assert as_csv.content_type == "text/csv; charset=utf-8"
        assert as_csv.headers["Content-Disposition"] == "attachment; filename=export.csv"
        rows = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert {row["region"]: row["value:sum"] for row in rows} == {"north": "1", "south": "10"}
        assert as_json.headers["ETag"] != as_csv.headers["ETag"]


def test_unpublishing_changes_the_cached_answer_at_once(stack):
    reader = stack.readers[0]
    assert sums(reader) == sums(reader) == {"north": 1, "south": 10}
    changed = stack.write.patch("/data-sets/sales", json={"published": False}, headers=ADMIN)
    assert changed.status_code == 200, changed.get_json()
    response = reader.get(QUERY)
    assert response.get_json()["warning"] == UNPUBLISHED_WARNING
    assert response.headers["Cache-Control"] == "no-cache"


def test_a_cached_answer_takes_the_current_cache_control_and_legacy_address(stack):
    reader = stack.readers[0]
    assert reader.get(QUERY).headers["Cache-Control"] == "max-age=1800, must-revalidate"
    changed = stack.write.patch("/data-sets/sales", json={"realtime": True}, headers=ADMIN)
    assert changed.status_code == 200, changed.get_json()
    moved = change(reader, lambda: reader.get(QUERY.replace("/data/shop/sales", "/sales")))
    assert moved["backdrop_result_cache_hits_total"] == 1  # realtime changes no body
    assert reader.get(QUERY).headers["Cache-Control"] == "max-age=120, must-revalidate"


def test_forbidding_raw_queries_refuses_one_that_was_cached(stack):
    reader = stack.readers[0]
    for _ in range(2):
        assert reader.get("/data/shop/sales?limit=5").status_code == 200
    changed = stack.write.patch(
        "/data-sets/sales", json={"raw_queries_allowed": False}, headers=ADMIN
    )
    assert changed.status_code == 200, changed.get_json()
    assert reader.get("/data/shop/sales?limit=5").status_code == 400


def test_small_raw_answers_are_cached_and_streamed_ones_never(make_stack):
    stack = make_stack(readers=1)
    stack.post([{"_id": f"r{n}", "region": "north", "value": n} for n in range(1100)])
    reader = stack.readers[0]
    reader.get("/data/shop/sales?limit=10")
    moved = change(reader, lambda: reader.get("/data/shop/sales?limit=10"))
    assert (moved["backdrop_result_cache_hits_total"], moved["raw"]) == (1, 0)
    for _ in range(2):
        moved = change(reader, lambda: reader.get("/data/shop/sales").close())
        assert moved["backdrop_result_cache_misses_total"] == 1
        assert moved["backdrop_result_cache_bytes"] == 0  # nothing new kept
        assert moved["raw"] == 1


def test_the_read_app_keeps_at_most_its_bound(make_stack):
    stack = make_stack(cache_bytes=16 * 1024, readers=1)
    region = "a region with a name of some length, number {:02d}"
    stack.post([{"_id": f"r{n}", "region": region.format(n), "value": n} for n in range(40)])
    reader = stack.readers[0]
    for limit in range(1, 41):
        reader.get(f"/data/shop/sales?group_by=region&limit={limit}")
        assert scrape(reader)["backdrop_result_cache_bytes"] <= 16 * 1024
    # the largest answers (over 2 KiB, an eighth) were never kept: asked again, they miss
    moved = change(reader, lambda: reader.get("/data/shop/sales?group_by=region&limit=40"))
    assert moved["backdrop_result_cache_misses_total"] == 1
    moved = change(reader, lambda: reader.get("/data/shop/sales?group_by=region&limit=40"))
    assert moved["backdrop_result_cache_misses_total"] == 1


def test_zero_bytes_turns_the_cache_off(make_stack):
    stack = make_stack(cache_bytes=0, readers=1)
    stack.post([{"_id": "a", "region": "north", "value": 1}])
    reader = stack.readers[0]
    for _ in range(3):
        moved = change(reader, lambda: sums(reader))
        assert moved["grouped"] == 1
        assert moved["backdrop_result_cache_hits_total"] == 0
        assert moved["backdrop_result_cache_misses_total"] == 0


def test_a_duration_answer_is_not_reused_past_its_period(stack, monkeypatch):
    days = [
        {"_id": f"d{day}", "_timestamp": f"2024-01-{day:02d}T09:00:00Z", "value": day}
        for day in range(1, 11)
    ]
    stack.post(days)
    reader = stack.readers[0]
    path = "/data/shop/sales?period=day&duration=2&collect=value:sum"

    def starts_at(now: datetime) -> list[tuple[str, int]]:
        monkeypatch.setattr(result_cache, "utcnow", lambda: now)
        rows = reader.get(path).get_json()["data"]
        return [(row["_start_at"][:10], row["value:sum"]) for row in rows]

    morning = datetime(2024, 1, 5, 8, 0, tzinfo=UTC)
    assert starts_at(morning) == [("2024-01-03", 3), ("2024-01-04", 4)]
    evening = datetime(2024, 1, 5, 23, 59, tzinfo=UTC)
    moved = change(reader, lambda: starts_at(evening))
    assert moved["backdrop_result_cache_hits_total"] == 1
    next_day = datetime(2024, 1, 6, 0, 1, tzinfo=UTC)
    assert starts_at(next_day) == [("2024-01-04", 4), ("2024-01-05", 5)]


def test_a_database_error_reading_the_version_is_a_503(stack, monkeypatch):
    records = stack.apps[1].extensions["backdrop"].engine.records

    def unavailable(data_set: str):
        raise StorageUnavailable("The database is unavailable")

    monkeypatch.setattr(records, "state", unavailable)
    response = stack.readers[0].get(QUERY)
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"
