"""Source configs and schedules: what is accepted, and a clear 400 for the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backdrop.core.sources import schedule
from backdrop.core.sources.config import from_request
from backdrop.errors import BadRequest

GOOD = {"url": "https://example.org/latest.csv", "format": "csv", "schedule": "0 2 * * *"}


def make(**changes):
    body = {**GOOD, **changes}
    return from_request({k: v for k, v in body.items() if v is not ...}, "ds", "id1", "")


def test_a_full_config_is_kept_with_defaults():
    config = make(headers={"Accept": "text/csv", "Authorization": "env:TOKEN"},
                  mapping={"rename": {"Date": "_timestamp"}, "drop": ["notes"]})  # fmt: skip
    assert config.mode == "append" and config.records_path is None
    assert config.headers["Authorization"] == "env:TOKEN"
    assert config.body()["mapping"] == {"rename": {"Date": "_timestamp"}, "drop": ["notes"]}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"url": "ftp://example.org/x"}, "url must be an http:// or https:// URL"),
        ({"url": "http://[::1/x.csv"}, "url must be an http:// or https:// URL"),
        ({"url": ...}, "a source needs url"),
        ({"format": "xml"}, "format must be one of csv, xlsx, json, jsonl"),
        ({"schedule": "sometimes"}, "schedule 'sometimes' is not a valid schedule"),
        ({"schedule": "61 * * * *"}, "schedule '61 * * * *' is not a valid schedule"),
        ({"schedule": "every 10s"}, "schedule must be at least every 1m"),
        (
            {"schedule": "every 99999999999999999999m"},
            "schedule 'every 99999999999999999999m' is not",
        ),
        ({"schedule": 5}, "schedule must be a string"),
        ({"mode": "merge"}, "mode must be one of append, replace"),
        ({"records_path": "/data"}, "records_path is only for format json"),
        ({"format": "json", "records_path": "data"}, "records_path must be a JSON Pointer"),
        ({"headers": {"Authorization": "Bearer abc"}}, "header Authorization must be env:VARIABLE"),
        ({"headers": {"X-Api-Key": "abc"}}, "header X-Api-Key must be env:VARIABLE"),
        ({"headers": {"Bad Name": "x"}}, "header 'Bad Name' must be a header name"),
        ({"headers": ["x"]}, "headers must be an object"),
        ({"mapping": {"move": {}}}, "mapping must be"),
        ({"mapping": {"rename": {"a": "foo-bar"}}}, "mapping.rename target 'foo-bar'"),
        ({"mapping": {"drop": "notes"}}, "mapping.drop must be a list"),
        ({"colour": "red"}, "unknown source field(s): colour"),
    ],
)
def test_bad_configs_are_400_naming_the_field(changes, message):
    with pytest.raises(BadRequest) as raised:
        make(**changes)
    assert raised.value.message.startswith(message), raised.value.message


def test_a_body_that_is_not_an_object_is_400():
    with pytest.raises(BadRequest, match="a source must be a JSON object"):
        from_request(["x"], "ds", "id", "")


NOW = datetime(2024, 6, 1, 2, 30, tzinfo=UTC)


def test_every_schedules_are_due_at_once_then_after_their_interval():
    assert schedule.due("every 15m", None, NOW, NOW)
    assert not schedule.due("every 15m", NOW - timedelta(minutes=14), NOW, NOW)
    assert schedule.due("every 15m", NOW - timedelta(minutes=15), NOW, NOW)


def test_cron_schedules_are_due_once_their_next_time_after_the_last_start_has_come():
    assert schedule.due("0 2 * * *", NOW - timedelta(days=1), NOW, NOW)
    assert not schedule.due("0 2 * * *", NOW - timedelta(minutes=20), NOW, NOW)
    assert not schedule.due("0 2 * * *", None, NOW - timedelta(minutes=5), NOW)
    assert schedule.due("0 2 * * *", None, NOW - timedelta(hours=1), NOW)
