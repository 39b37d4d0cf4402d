"""The read app over the Flask test client: routes, errors, headers, formats (SPEC 5.4)."""

from __future__ import annotations

import csv
import io

import pytest

from backdrop.read.renderers import UNPUBLISHED_WARNING

RECORDS = [
    {"_id": "a1", "_timestamp": "2014-01-06T10:00:00Z", "channel": "web", "count": 2},
    {"_id": "a2", "_timestamp": "2014-01-14T10:00:00Z", "channel": "app", "count": 3},
    {"_id": "a3", "_timestamp": "2014-01-15T10:00:00Z", "channel": "web", "count": 4},
]
WEEKS = "start_at=2014-01-06T00:00:00Z&end_at=2014-01-20T00:00:00Z"


@pytest.fixture
def visits(data_set):
    return data_set("visits", RECORDS, data_group="site", data_type="visits")


def test_query_by_address_and_by_legacy_name_give_the_same_data(client, visits):
    by_address = client.get("/data/site/visits?group_by=channel")
    by_name = client.get("/visits?group_by=channel")
    assert by_address.status_code == by_name.status_code == 200
    assert (
        by_address.json
        == by_name.json
        == {"data": [{"channel": "app", "_count": 1}, {"channel": "web", "_count": 2}]}
    )


def test_raw_query_times_are_iso_with_utc_offset(client, visits):
    rows = client.get("/data/site/visits").json["data"]
    assert rows[0]["_timestamp"] == "2014-01-06T10:00:00+00:00"
    assert rows[0]["_updated_at"].endswith("+00:00")
    assert not any(key.endswith("_start_at") for key in rows[0])


def test_period_times_are_iso_with_utc_offset(client, visits):
    rows = client.get(f"/data/site/visits?period=week&{WEEKS}").json["data"]
    assert rows == [
        {
            "_start_at": "2014-01-06T00:00:00+00:00",
            "_end_at": "2014-01-13T00:00:00+00:00",
            "_count": 1,
        },
        {
            "_start_at": "2014-01-13T00:00:00+00:00",
            "_end_at": "2014-01-20T00:00:00+00:00",
            "_count": 2,
        },
    ]


@pytest.mark.parametrize("path", ["/data/site/nothing", "/nothing", "/data/nothing/visits"])
def test_unknown_data_set_is_not_found(client, visits, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json == {"status": "error", "message": "data_set not found"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_non_queryable_data_set_is_not_found(client, data_set):
    data_set("hidden", RECORDS, queryable=False)
    for path in ("/hidden", "/data/hidden/hidden"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json == {"status": "error", "message": "data_set not found"}


def test_invalid_query_is_a_json_400_with_cors(client, visits):
    response = client.get("/data/site/visits?foo=bar")
    assert response.status_code == 400
    assert response.json == {
        "status": "error",
        "message": "An unrecognised parameter was provided",
        "detail": "unknown parameter 'foo'; known: filter_by, filter_by_prefix, start_at, "
        "end_at, inclusive, period, duration, group_by, collect, sort_by, limit, flatten, format",
    }
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_sum_over_text_is_a_400(client, data_set):
    data_set("texts", [{"channel": "web", "count": "many"}])
    response = client.get("/texts?group_by=channel&collect=count:sum")
    assert response.status_code == 400
    assert response.json == {
        "status": "error",
        "message": "invalid collect function",
        "detail": "sum and mean need numbers: count:sum met a value that is not a number "
        "(collect it with count or set instead)",
    }


def test_raw_queries_not_allowed(client, data_set):
    data_set("private", RECORDS, raw_queries_allowed=False)
    response = client.get("/private")
    assert response.status_code == 400
    assert response.json["message"] == "querying for raw data is not allowed"
    assert client.get("/private?group_by=channel").status_code == 200


def test_wrong_method_is_a_json_405_with_cors(client, visits):
    response = client.post("/data/site/visits", json={})
    assert response.status_code == 405
    assert response.json["status"] == "error"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_preflight(client, visits):
    response = client.options(
        "/data/site/visits",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Max-Age"] == "86400"
    assert response.headers["Access-Control-Allow-Headers"] == (
        "cache-control, govuk-request-id, request-id"
    )


def test_cors_on_successful_reads(client, visits):
    assert client.get("/data/site/visits").headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, "max-age=1800, must-revalidate"),
        ({"realtime": True}, "max-age=120, must-revalidate"),
        ({"published": False}, "no-cache"),
        ({"published": False, "realtime": True}, "no-cache"),
    ],
)
def test_cache_control(client, data_set, config, expected):
    data_set("cached", RECORDS, **config)
    assert client.get("/cached").headers["Cache-Control"] == expected


def test_unpublished_data_carries_a_warning(client, data_set):
    data_set("draft", RECORDS[:1], published=False)
    body = client.get("/draft?group_by=channel").json
    assert body == {"data": [{"channel": "web", "_count": 1}], "warning": UNPUBLISHED_WARNING}
    assert UNPUBLISHED_WARNING == (
        "Warning: This data-set is unpublished. Data may be subject to change or be inaccurate."
    )


def test_published_data_has_no_warning(client, visits):
    assert "warning" not in client.get("/visits").json


def test_etag_and_not_modified(client, visits):
    first = client.get("/data/site/visits?group_by=channel")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get("/data/site/visits?group_by=channel", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    assert again.headers["Cache-Control"] == "max-age=1800, must-revalidate"


def test_etag_changes_with_the_data(client, app, visits):
    etag = client.get("/visits").headers["ETag"]
    app.extensions["backdrop"].engine.records.delete("visits", "a1")
    response = client.get("/visits", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    assert len(response.json["data"]) == 2


def test_different_queries_have_different_etags(client, visits):
    assert client.get("/visits").headers["ETag"] != client.get("/visits?limit=1").headers["ETag"]


def test_csv_of_raw_records(client, visits):
    response = client.get("/data/site/visits?format=csv&filter_by=channel:web")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=export.csv"
    assert "ETag" in response.headers
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["_id", "_timestamp", "_updated_at", "channel", "count"]
    assert [row[:2] + row[3:] for row in rows[1:]] == [
        ["a1", "2014-01-06T10:00:00+00:00", "web", "2"],
        ["a3", "2014-01-15T10:00:00+00:00", "web", "4"],
    ]


def test_csv_flattens_nested_values_into_a_row_per_period(client, visits):
    response = client.get(
        f"/visits?format=csv&period=week&group_by=channel&collect=count:sum&{WEEKS}"
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        ["_count", "_end_at", "_group_count", "_start_at", "channel", "count:sum"],
        ["0", "2014-01-13T00:00:00+00:00", "1", "2014-01-06T00:00:00+00:00", "app", ""],
        ["1", "2014-01-20T00:00:00+00:00", "1", "2014-01-13T00:00:00+00:00", "app", "3"],
        ["1", "2014-01-13T00:00:00+00:00", "2", "2014-01-06T00:00:00+00:00", "web", "2"],
        ["1", "2014-01-20T00:00:00+00:00", "2", "2014-01-13T00:00:00+00:00", "web", "4"],
    ]


def test_csv_of_sets_and_booleans(client, data_set):
    data_set("flags", [{"kind": "a_a", "flag": True}, {"kind": "a_a", "flag": False}])
    response = client.get("/flags?format=csv&group_by=kind&collect=flag")
    assert response.get_data(as_text=True).splitlines() == [
        "_count,flag,flag:set,kind",
        '2,"[false,true]","[false,true]",a_a',
    ]


def test_status(client):
    response = client.get("/_status")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "message": "app is up"}
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_status_is_503_when_the_database_is_unreachable(tmp_path):
    from backdrop.read import create_app
    from backdrop.settings import Settings

    (tmp_path / "not-a-directory").write_text("")
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/not-a-directory/t.db"))
    response = app.test_client().get("/_status")
    assert response.status_code == 503
    assert response.json["status"] == "error"
    assert response.json["message"]
    assert app.test_client().get("/visits").status_code == 503


@pytest.mark.parametrize("path", ["/_status", "/_status/data-sets"])
def test_status_responses_have_etags_too(client, path):
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_head_gives_the_headers_of_get(client, visits):
    get, head = client.get("/visits"), client.head("/visits")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert head.headers["Cache-Control"] == get.headers["Cache-Control"]
