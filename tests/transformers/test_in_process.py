"""No broker: transforms run in the write app right after the write commits,
and their records are readable through the read app."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from backdrop.core.periods import PERIODS
from backdrop.transformers.runner import widen
from tests.transformers.conftest import ADMIN

WEEKLY = {
    "type": "rollup",
    "query": {"period": "week", "group_by": ["stage"], "collect": ["value:sum"]},
    "options": {"additionalFields": {"service": "tax"}},
    "output": {"data_group": "src", "data_type": "weekly"},
}
RECORDS = [
    {"_timestamp": "2024-01-01T10:00:00Z", "stage": "start", "value": 2},
    {"_timestamp": "2024-01-03T10:00:00+01:00", "stage": "start", "value": 3},
    {"_timestamp": "2024-01-04T10:00:00Z", "stage": "done", "value": 1},
    {"_timestamp": "2024-01-09T10:00:00Z", "stage": "done", "value": 5},
]


def rows(read, path):
    response = read.get(path)
    assert response.status_code == 200, response.json
    return response.json["data"]


def by_week_and_stage(data):
    return {(r["_start_at"][:10], r["stage"]): (r["count"], r["value_sum"]) for r in data}


@pytest.fixture
def source(make_data_set, add_transform):
    token = make_data_set("src", realtime=True, published=False)
    add_transform("src", WEEKLY)
    return token


def test_written_records_are_rolled_up_into_the_output_data_set(write, read, source):
    response = write.post("/data/src/src", json=RECORDS, headers=source)
    assert (response.status_code, response.json) == (200, {"status": "ok"})

    data = rows(read, "/data/src/weekly")
    assert by_week_and_stage(data) == {
        ("2024-01-01", "start"): (2, 5),
        ("2024-01-01", "done"): (1, 1),
        ("2024-01-08", "start"): (0, None),  # flatten fills the groups' empty periods
        ("2024-01-08", "done"): (1, 5),
    }
    assert {r["service"] for r in data} == {"tax"}
    first = next(
        r for r in data if r["_start_at"].startswith("2024-01-08") and r["stage"] == "done"
    )
    assert first["_timestamp"] == first["_start_at"] == "2024-01-08T00:00:00+00:00"
    assert first["_end_at"] == "2024-01-15T00:00:00+00:00"
    # The output is an ordinary data set: grouped reads work on it too.
    totals = rows(read, "/data/src/weekly?group_by=stage&collect=value_sum:sum")
    assert [(r["stage"], r["value_sum:sum"]) for r in totals] == [("done", 6), ("start", 5)]


def test_output_data_set_is_created_with_the_sources_settings(write, source):
    write.post("/data/src/src", json=RECORDS, headers=source)
    output = write.get("/data-sets/src_weekly", headers=ADMIN)
    assert output.status_code == 200
    assert output.json["data_group"] == "src" and output.json["data_type"] == "weekly"
    assert output.json["realtime"] is True and output.json["published"] is False
    assert "bearer_token" not in output.json and "token_hash" not in output.json
    # It has a token of its own: the source's does not write to it.
    assert write.post("/data/src/weekly", json={"a_b": 1}, headers=source).status_code == 401


def test_re_runs_replace_their_records(write, read, source):
    write.post("/data/src/src", json=RECORDS, headers=source)
    before = rows(read, "/data/src/weekly")
    for _ in range(2):
        trigger = write.post(
            "/data/src/src/transform",
            json={"_start_at": "2024-01-01T00:00:00Z", "_end_at": "2024-01-14T00:00:00Z"},
            headers=source,
        )
        assert trigger.status_code == 200
    after = rows(read, "/data/src/weekly")
    assert sorted(r["_id"] for r in after) == sorted(r["_id"] for r in before)
    assert len(after) == 4


def test_later_writes_update_the_periods_they_touch(write, read, source):
    write.post("/data/src/src", json=RECORDS, headers=source)
    more = {"_timestamp": "2024-01-10T00:00:00Z", "stage": "start", "value": 10}
    assert write.post("/data/src/src", json=more, headers=source).status_code == 200
    stored = rows(read, "/data/src/weekly")
    assert len(stored) == 4
    data = by_week_and_stage(stored)
    assert data[("2024-01-08", "start")] == (1, 10)
    assert data[("2024-01-01", "start")] == (2, 5)


def test_a_failing_transform_is_logged_and_never_fails_the_write(
    write, read, source, add_transform, caplog
):
    # Summing text fails when the transform runs, not when it is added.
    broken = add_transform(
        "src",
        {
            "type": "rollup",
            "query": {"period": "week", "group_by": ["stage"], "collect": ["note:sum"]},
            "output": {"data_group": "src", "data_type": "broken"},
        },
    )
    with caplog.at_level(logging.ERROR, logger="backdrop"):
        response = write.post(
            "/data/src/src", json=[{**r, "note": "text"} for r in RECORDS], headers=source
        )
    assert (response.status_code, response.json) == (200, {"status": "ok"})
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1
    message = failures[0].getMessage()
    assert f"transform {broken['id']} (rollup) of src failed" in message
    assert "2024-01-01T10:00:00+00:00 – 2024-01-09T10:00:00+00:00" in message
    assert "backdrop transforms run src --start 2024-01-01T10:00:00+00:00" in message
    assert failures[0].data_set == "src" and failures[0].transform == broken["id"]
    # The records were stored and the other transform still ran.
    assert len(rows(read, "/data/src/src")) == 4
    assert len(rows(read, "/data/src/weekly")) == 4


def test_records_without_timestamps_never_break_the_write(
    write, read, make_data_set, add_transform
):
    token = make_data_set("events")
    add_transform(
        "events",
        {
            "type": "rollup",
            "query": {"group_by": ["kind"]},
            "output": {"data_group": "events", "data_type": "kinds"},
        },
    )
    response = write.post("/data/events/events", json=[{"kind": "a"}, {"kind": "b"}], headers=token)
    assert response.status_code == 200
    # A batch without _timestamp spans no time range, so nothing was triggered yet.
    assert read.get("/data/events/kinds").status_code == 404
    stamped = {"kind": "a", "_timestamp": "2024-02-01T00:00:00Z"}
    assert write.post("/data/events/events", json=stamped, headers=token).status_code == 200
    # Without a period the query reads the whole data set.
    counts = {r["kind"]: r["count"] for r in rows(read, "/data/events/kinds")}
    assert counts == {"a": 2, "b": 1}


def test_rate_mapping_and_satisfaction_end_to_end(write, read, make_data_set, add_transform):
    token = make_data_set("funnel")
    query = {"period": "day", "group_by": ["stage"]}
    add_transform(
        "funnel",
        {
            "type": "rate",
            "query": query,
            "options": {
                "matchingAttribute": "stage",
                "numeratorMatcher": "done",
                "denominatorMatcher": "start",
                "additionalFields": {"metric": "completion"},
            },
            "output": {"data_group": "funnel", "data_type": "rate"},
        },
    )
    add_transform(
        "funnel",
        {
            "type": "mapping",
            "query": query,
            "options": {"mappingKeys": ["stage"], "mappings": {"start|done": "seen"}},
            "output": {"data_group": "funnel", "data_type": "mapped"},
        },
    )
    add_transform(
        "funnel",
        {
            "type": "user_satisfaction",
            "query": {"period": "day", "collect": [f"rating_{n}:sum" for n in range(1, 6)]},
            "output": {"data_group": "funnel", "data_type": "satisfaction"},
        },
    )
    day = "2024-03-04T12:00:00Z"
    batch = [
        {"_timestamp": day, "stage": "start", "rating_5": 1},
        {"_timestamp": day, "stage": "start", "rating_4": 1},
        {"_timestamp": day, "stage": "start", "rating_1": 2},
        {"_timestamp": day, "stage": "done"},
        {"_timestamp": day, "stage": "other"},
    ]
    assert write.post("/data/funnel/funnel", json=batch, headers=token).status_code == 200

    (rate,) = rows(read, "/data/funnel/rate")
    assert (rate["_start_at"], rate["rate"], rate["metric"]) == (
        "2024-03-04T00:00:00+00:00",
        1 / 3,
        "completion",
    )
    mapped = {r["stage"]: r["count"] for r in rows(read, "/data/funnel/mapped")}
    assert mapped == {"seen": 4, "other": 1}
    (satisfaction,) = rows(read, "/data/funnel/satisfaction")
    # (5 + 4 + 1 + 1) / 4 = 2.75 → (2.75 - 1) / 4
    assert satisfaction["total"] == 4 and satisfaction["score"] == pytest.approx(0.4375)
    assert [satisfaction[f"rating_{n}"] for n in range(1, 6)] == [2, 0, 0, 1, 1]


def test_the_unfinished_current_period_is_left_until_it_ends(write, read, source):
    now = datetime.now(UTC)
    record = {"_timestamp": now.isoformat(), "stage": "start", "value": 1}
    assert write.post("/data/src/src", json=record, headers=source).status_code == 200
    assert read.get("/data/src/weekly").status_code == 404  # nothing finished to derive yet


def test_widen_covers_whole_periods_and_stops_at_the_current_one():
    week = PERIODS["week"]
    now = datetime(2024, 1, 17, 12, tzinfo=UTC)  # a Wednesday
    start, end = datetime(2024, 1, 2, 5, tzinfo=UTC), datetime(2024, 1, 9, 5, tzinfo=UTC)
    assert widen(week, start, end, now) == (
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 15, tzinfo=UTC),
    )
    # A range reaching into the current week stops at its start.
    assert widen(week, start, now - timedelta(hours=1), now)[1] == datetime(2024, 1, 15, tzinfo=UTC)
    assert widen(PERIODS["month"], start, end, now) == (
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 1, tzinfo=UTC),
    )
    assert widen(None, start, end, now) == (None, None)
    assert widen(week, None, None, now) == (None, None)
