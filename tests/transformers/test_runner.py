"""Running transforms on every storage engine: outputs, ids, re-runs."""

from datetime import UTC, datetime

import pytest

from backdrop.core import writes
from backdrop.core.data_sets import Registry
from backdrop.core.query import Where
from backdrop.transformers import config
from backdrop.transformers.runner import run_all

NOW = datetime(2024, 2, 1, tzinfo=UTC)
START = datetime(2024, 1, 2, 9, tzinfo=UTC)
END = datetime(2024, 1, 9, 9, tzinfo=UTC)


class NoDispatch:
    def dispatch(self, data_set, start, end):
        return None


@pytest.fixture
def source(engine):
    data_sets = Registry(engine)
    data_sets.create({"name": "src", "capped_size": 0, "realtime": True})
    records = [
        {"_timestamp": "2024-01-02T09:00:00Z", "stage": "start", "value": 1.5},
        {"_timestamp": "2024-01-03T09:00:00Z", "stage": "start", "value": 2},
        {"_timestamp": "2024-01-03T10:00:00Z", "stage": "done", "value": 4},
        {"_timestamp": "2024-01-09T09:00:00Z", "stage": "done", "value": 1},
        {"_timestamp": "2024-03-01T09:00:00Z", "stage": "late", "value": 100},  # outside the run
    ]
    writes.save(engine, NoDispatch(), data_sets.get("src"), records)
    return data_sets.get("src")


def test_rollup_and_rate_outputs(engine, source):
    rollup = config.add(
        engine,
        "src",
        {
            "type": "rollup",
            "query": {
                "period": "week",
                "group_by": "stage",
                "collect": ["value:sum", "value:mean"],
            },
            "options": {"additionalFields": {"service": "tax"}},
            "output": {"data_group": "src", "data_type": "weekly"},
        },
    )
    rate = config.add(
        engine,
        "src",
        {
            "type": "rate",
            "query": {"period": "week", "group_by": "stage", "collect": ["value:sum"]},
            "options": {
                "matchingAttribute": "stage",
                "numeratorMatcher": "done",
                "denominatorMatcher": "start|done",
                "valueAttribute": "value:sum",
            },
            "output": {"data_group": "src", "data_type": "rate"},
        },
    )
    runs = run_all(engine, "src", START, END, now=NOW)
    assert [(r.transform_id, r.output, r.records, r.error) for r in runs] == [
        (rollup["id"], "src_weekly", 4, None),
        (rate["id"], "src_rate", 2, None),
    ]
    assert runs[0].start == datetime(2024, 1, 1, tzinfo=UTC)
    assert runs[0].end == datetime(2024, 1, 15, tzinfo=UTC)

    weekly = engine.records.find("src_weekly", Where())
    summary = sorted(
        (
            r["_timestamp"].date().isoformat(),
            r["stage"],
            r["count"],
            r["value_sum"],
            r["value_mean"],
        )
        for r in weekly
    )
    assert summary == [
        ("2024-01-01", "done", 1, 4, 4.0),
        ("2024-01-01", "start", 2, 3.5, 1.75),
        ("2024-01-08", "done", 1, 1, 1.0),
        ("2024-01-08", "start", 0, None, None),
    ]
    assert {r["service"] for r in weekly} == {"tax"}
    rates = sorted((r["_start_at"], r["rate"]) for r in engine.records.find("src_rate", Where()))
    assert rates == [
        (datetime(2024, 1, 1, tzinfo=UTC), 4 / 7.5),
        (datetime(2024, 1, 8, tzinfo=UTC), 1.0),
    ]
    assert Registry(engine).get("src_weekly").realtime is True

    again = run_all(engine, "src", START, END, now=NOW)
    assert [r.records for r in again] == [4, 2]
    assert sorted(r["_id"] for r in engine.records.find("src_weekly", Where())) == sorted(
        r["_id"] for r in weekly
    )


def test_two_sources_into_one_output_keep_their_own_records(engine, source):
    data_sets = Registry(engine)
    data_sets.create({"name": "other"})
    writes.save(
        engine,
        NoDispatch(),
        data_sets.get("other"),
        [{"_timestamp": "2024-01-02T09:00:00Z", "stage": "start", "value": 7}],
    )
    for name in ("src", "other"):
        config.add(
            engine,
            name,
            {
                "type": "rollup",
                "query": {"period": "week", "group_by": "stage"},
                "options": {"additionalFields": {"source": name}},
                "output": {"data_group": "all", "data_type": "weekly"},
            },
        )
        run_all(engine, name, START, START, now=NOW)
    stored = engine.records.find("all_weekly", Where())
    assert sorted((r["source"], r["stage"], r["count"]) for r in stored) == [
        ("other", "start", 1),
        ("src", "done", 1),
        ("src", "start", 2),
    ]
