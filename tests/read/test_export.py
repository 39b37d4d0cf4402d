"""The export route of SPEC 13: pages, cursors, orientations, streams, rules."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from backdrop.core.records import prepare_records

URL = "/data/g/t/records"
BASE = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def stored(data_set):
    records = [{"_id": f"r{n:04}", "num": n, "even": n % 2 == 0} for n in range(250)]
    return data_set("exported", records, data_group="g", data_type="t")


def walk(client, url):
    """Every page's body, following ``next`` until it is null."""
    bodies = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json
        bodies.append(response.json)
        url = response.json["next"]
    return bodies


def test_records_pages_walk_every_record_once(client, stored):
    bodies = walk(client, f"{URL}?limit=100")
    assert [len(body["results"]) for body in bodies] == [100, 100, 50]
    ids = [record["_id"] for body in bodies for record in body["results"]]
    assert ids == [f"r{n:04}" for n in range(250)]
    assert bodies[0]["results"][1]["num"] == 1
    assert bodies[0]["results"][1]["_updated_at"].endswith("+00:00")


def test_next_is_an_absolute_url_keeping_the_other_parameters(client, stored):
    body = client.get(f"{URL}?limit=100&orientation=tabular").json
    parts = urlsplit(body["next"])
    assert parts.scheme == "http" and parts.path == URL
    query = parse_qs(parts.query)
    assert query["limit"] == ["100"] and query["orientation"] == ["tabular"]
    assert "r0099" not in query["next-id"][0]  # opaque


def test_the_default_page_is_1000_and_the_last_page_says_so(client, data_set):
    data_set("big", [{"_id": f"{n:05}"} for n in range(1000)], data_group="g", data_type="t")
    body = client.get(URL).json
    assert len(body["results"]) == 1000 and body["next"] is None


def test_tabular_pages_have_headers_and_rows_of_values(client, data_set):
    records = [{"_id": "a", "xx": 1}, {"_id": "b", "yy": "two"}]
    data_set("tab", records, data_group="g", data_type="t")
    body = client.get(f"{URL}?orientation=tabular").json
    assert body["headers"] == ["_id", "_updated_at", "xx", "yy"]
    assert [row[0] for row in body["values"]] == ["a", "b"]
    assert body["values"][0][2:] == [1, None] and body["values"][1][2:] == [None, "two"]
    assert body["next"] is None


def test_updated_since_keeps_records_written_at_or_after_it(client, app, data_set):
    config = data_set("inc", data_group="g", data_type="t")
    records = app.extensions["backdrop"].engine.records
    for day in range(3):
        batch = [{"_id": f"d{day}-{n}"} for n in range(3)]
        records.save("inc", prepare_records(batch, config, BASE + timedelta(days=day)))
    body = client.get(f"{URL}?updated_since=2024-01-02T00:00:00Z").json
    assert [r["_id"] for r in body["results"]] == [f"d{d}-{n}" for d in (1, 2) for n in range(3)]
    later = client.get(f"{URL}?updated_since=2024-01-02T00:00:01%2B00:00").json
    assert len(later["results"]) == 3


def test_a_writer_adding_records_during_the_walk_never_causes_a_skip_or_repeat(client, app, stored):
    config = app.extensions["backdrop"].registry.find("g", "t")
    records = app.extensions["backdrop"].engine.records
    seen, url, step = [], f"{URL}?limit=30", 0
    while url:
        body = client.get(url).json
        seen.extend(record["_id"] for record in body["results"])
        new = [{"_id": f"r{step:04}-new"}, {"_id": f"a{step}"}, {"_id": f"z{step}"}]
        records.save("exported", prepare_records(new, config, datetime.now(UTC)))
        url, step = body["next"], step + 1
    assert [i for i in seen if not i.endswith("new") and i[0] == "r"] == [
        f"r{n:04}" for n in range(250)
    ]
    assert len(seen) == len(set(seen))


def test_jsonl_streams_every_record_one_per_line(client, stored):
    response = client.get(f"{URL}?format=jsonl&limit=7")
    assert response.is_streamed and response.mimetype == "application/x-ndjson"
    lines = response.get_data().splitlines()
    assert [orjson.loads(line)["num"] for line in lines] == list(range(250))
    assert "ETag" not in response.headers


def test_csv_streams_a_header_of_every_key_then_every_record(client, data_set):
    records = [{"_id": f"{n:03}", "num": n} for n in range(20)] + [{"_id": "999", "late": "x,y"}]
    data_set("c", records, data_group="g", data_type="t")
    response = client.get(f"{URL}?format=csv&limit=3")
    assert response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=export.csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["_id", "_updated_at", "late", "num"]
    assert [row[0] for row in rows[1:]] == [f"{n:03}" for n in range(20)] + ["999"]
    assert rows[-1][2] == "x,y" and rows[1][3] == "0"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be a whole number from 1 to 10000"),
        ("limit=10001", "limit must be a whole number from 1 to 10000"),
        ("limit=ten", "limit must be a whole number from 1 to 10000"),
        ("limit=%C2%B9", "limit must be a whole number from 1 to 10000"),  # "¹": isdigit() is True
        ("orientation=columns", "orientation must be one of records, tabular"),
        ("format=xml", "format must be one of json, jsonl, csv"),
        ("next-id=not-a-cursor", "next-id is not a valid cursor"),
        ("next-id=%%%", "next-id is not a valid cursor"),
        ("updated_since=yesterday", "updated_since is not a valid datetime"),
        ("updated_since=2024-02-30T00:00:00Z", "updated_since is not a valid datetime"),
        ("sort_by=n:ascending", "An unrecognised parameter was provided"),
        ("limit=1&limit=2", "limit may be given only once"),
    ],
)
def test_bad_parameters_are_400_saying_what_is_allowed(client, stored, query, message):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response.json["message"] == message
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_unknown_or_unqueryable_data_sets_are_404(client, data_set):
    assert client.get(URL).status_code == 404
    data_set("hidden", data_group="g", data_type="t", queryable=False)
    response = client.get(URL)
    assert response.status_code == 404 and response.json["message"] == "data_set not found"


def test_unpublished_data_sets_warn_and_are_not_cached(client, data_set):
    data_set("draft", [{"_id": "a"}], data_group="g", data_type="t", published=False)
    response = client.get(URL)
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.json["warning"].startswith("Warning: This data-set is unpublished")
    stream = client.get(f"{URL}?format=jsonl")
    assert "unpublished" in stream.headers["Warning"]


def test_published_pages_are_cached_and_carry_an_etag(client, stored):
    response = client.get(URL)
    assert response.headers["Cache-Control"] == "max-age=1800, must-revalidate"
    again = client.get(URL, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_closed_data_sets_export_only_with_their_bearer_token(client, data_set):
    data_set("closed", [{"_id": "a"}], data_group="g", data_type="t",
             raw_queries_allowed=False, bearer_token="the-token")  # fmt: skip
    missing = client.get(URL)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "bearer"
    wrong = client.get(URL, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json["message"] == "Unauthorized: Invalid bearer token 'nope' for 'closed'"
    right = client.get(URL, headers={"Authorization": "Bearer the-token"})
    assert right.status_code == 200 and right.json["results"][0]["_id"] == "a"


@pytest.mark.slow
def test_walking_100000_records_while_a_writer_adds_more_gives_each_exactly_once(
    client, app, data_set
):
    """A writer in another thread (its own engine on the same file) keeps adding
    records, before and after the cursor, for the whole walk."""
    from backdrop.core.storage import open_engine

    config = data_set("walked", data_group="g", data_type="t")
    records = app.extensions["backdrop"].engine.records
    now = datetime.now(UTC)
    for start in range(0, 100_000, 10_000):
        batch = [{"_id": f"e{n:06}", "num": n} for n in range(start, start + 10_000)]
        records.save("walked", prepare_records(batch, config, now))
    writer_engine = open_engine(app.extensions["backdrop"].settings.database_url)
    stop, written = threading.Event(), []

    def write():
        step = 0
        while not stop.is_set():
            batch = [{"_id": f"a{step:06}"}, {"_id": f"e{step * 7:06}x"}, {"_id": f"z{step:06}"}]
            writer_engine.records.save("walked", prepare_records(batch, config, datetime.now(UTC)))
            written.append(step)
            step += 1

    writer = threading.Thread(target=write)
    writer.start()
    seen, url = [], f"{URL}?limit=1000"
    try:
        while url:
            body = client.get(url).json
            seen.extend(record["_id"] for record in body["results"])
            url = body["next"]
    finally:
        stop.set()
        writer.join(10)
        writer_engine.close()
    assert len(written) > 10  # the writer really wrote during the walk
    existing = [i for i in seen if i.startswith("e") and not i.endswith("x")]
    assert existing == [f"e{n:06}" for n in range(100_000)]
    assert len(seen) == len(set(seen))
