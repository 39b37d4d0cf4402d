"""``GET /_status/data-sets``: data sets not written to within max_age_expected (SPEC 5.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def ago(**delta) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def test_all_in_date(client, data_set):
    data_set("fresh", [{"count": 1}], now=ago(minutes=5))
    response = client.get("/_status/data-sets")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "data_sets": None,
        "message": "All data_sets are in date",
    }
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_no_data_sets_at_all(client):
    assert client.get("/_status/data-sets").json["status"] == "ok"


def test_one_out_of_date(client, data_set):
    data_set("fresh", [{"count": 1}], now=ago(minutes=5))
    data_set("stale", [{"count": 1}], now=ago(seconds=3700), max_age_expected=3600)
    body = client.get("/_status/data-sets").json
    assert body["status"] == "not okay"
    assert body["message"] == "1 data-set is out of date"
    [stale] = body["data_sets"]
    assert set(stale) == {"name", "seconds-out-of-date", "last-updated", "max-age-expected"}
    assert stale["name"] == "stale"
    assert stale["max-age-expected"] == 3600
    assert 100 <= stale["seconds-out-of-date"] <= 160
    assert isinstance(stale["seconds-out-of-date"], int)
    last_updated = datetime.fromisoformat(stale["last-updated"])
    assert last_updated.utcoffset() == timedelta(0)
    assert abs((ago(seconds=3700) - last_updated).total_seconds()) < 60


def test_several_out_of_date(client, data_set):
    data_set("old-a", [{"count": 1}], now=ago(days=40))
    data_set("old-b", [{"count": 1}], now=ago(days=2), max_age_expected=86400)
    body = client.get("/_status/data-sets").json
    assert body["message"] == "2 data-sets are out of date"
    assert [entry["name"] for entry in body["data_sets"]] == ["old-a", "old-b"]


def test_data_sets_with_no_max_age_are_not_checked(client, data_set):
    data_set("quiet", [{"count": 1}], now=ago(days=400), max_age_expected=None)
    assert client.get("/_status/data-sets").json["status"] == "ok"


def test_data_sets_never_written_to_are_not_checked(client, data_set):
    data_set("empty", max_age_expected=1)
    assert client.get("/_status/data-sets").json["status"] == "ok"


def test_the_newest_write_counts(client, app, data_set):
    data_set("mixed", [{"_id": "old", "count": 1}], now=ago(days=2), max_age_expected=86400)
    assert client.get("/_status/data-sets").json["status"] == "not okay"
    from backdrop.core.records import prepare_records

    backdrop = app.extensions["backdrop"]
    config = backdrop.registry.get("mixed")
    backdrop.engine.records.save("mixed", prepare_records([{"count": 2}], config, ago(hours=1)))
    assert client.get("/_status/data-sets").json["status"] == "ok"
