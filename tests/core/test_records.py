"""Record validation and the stored form (SPEC 3)."""

from __future__ import annotations

import base64
import random
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from backdrop.core.data_sets import DataSetConfig
from backdrop.core.periods import PERIOD_KEYS, period_keys
from backdrop.core.records import keys_for, parse_time, prepare_records
from backdrop.errors import InvalidRecords

NOW = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def config(**values) -> DataSetConfig:
    return DataSetConfig(name="things", data_group="things", data_type="things", **values)


def messages(raw, **values) -> list[str]:
    with pytest.raises(InvalidRecords) as caught:
        prepare_records(raw, config(**values), NOW)
    return caught.value.messages


def test_a_valid_record_gets_id_updated_at_and_period_keys():
    (record,) = prepare_records(
        {"_timestamp": "2024-03-14T15:09:26Z", "count": 3, "isPaymentRequired": True},
        config(),
        NOW,
    )
    assert record["count"] == 3
    assert record["isPaymentRequired"] is True
    assert record["_timestamp"] == datetime(2024, 3, 14, 15, 9, 26, tzinfo=UTC)
    assert record["_updated_at"] == NOW
    assert isinstance(record["_id"], str) and record["_id"]
    assert record["_hour_start_at"] == datetime(2024, 3, 14, 15, tzinfo=UTC)
    assert record["_day_start_at"] == datetime(2024, 3, 14, tzinfo=UTC)
    assert record["_week_start_at"] == datetime(2024, 3, 11, tzinfo=UTC)  # a Monday
    assert record["_month_start_at"] == datetime(2024, 3, 1, tzinfo=UTC)
    assert record["_quarter_start_at"] == datetime(2024, 1, 1, tzinfo=UTC)
    assert record["_year_start_at"] == datetime(2024, 1, 1, tzinfo=UTC)


def test_records_without_timestamp_have_no_period_keys():
    (record,) = prepare_records({"value": "x"}, config(), NOW)
    assert not set(PERIOD_KEYS) & set(record)
    assert "_timestamp" not in record


def test_generated_ids_are_distinct_and_given_ids_are_kept():
    records = prepare_records([{"a_b": 1}, {"a_b": 1}, {"_id": "x:y+z./w"}], config(), NOW)
    assert records[0]["_id"] != records[1]["_id"]
    assert records[2]["_id"] == "x:y+z./w"


def test_generated_ids_are_time_ordered_across_batches():
    first = prepare_records([{"a_b": 1}] * 50, config(), NOW)
    time.sleep(0.002)
    second = prepare_records([{"a_b": 1}] * 50, config(), NOW)
    assert max(r["_id"] for r in first) < min(r["_id"] for r in second)
    assert all(len(r["_id"]) == 32 for r in first + second)


def test_times_without_offset_are_utc_and_offsets_are_converted():
    (record,) = prepare_records(
        {
            "_timestamp": "2024-03-14T15:00:00",
            "_start_at": "2024-03-14T15:00:00+02:00",
            "_end_at": "2024-03-14T15:00:00.250-01:30",
        },
        config(),
        NOW,
    )
    assert record["_timestamp"] == datetime(2024, 3, 14, 15, tzinfo=UTC)
    assert record["_start_at"] == datetime(2024, 3, 14, 13, tzinfo=UTC)
    assert record["_start_at"].utcoffset() == timedelta(0)
    assert record["_end_at"] == datetime(2024, 3, 14, 16, 30, 0, 250000, tzinfo=UTC)


def test_now_is_stored_in_utc():
    local = datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    (record,) = prepare_records({"value": 1}, config(), local)
    assert record["_updated_at"] == NOW and record["_updated_at"].utcoffset() == timedelta(0)


def test_parse_time_rejects_impossible_dates():
    with pytest.raises(ValueError):
        parse_time("2024-02-30T00:00:00Z")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"foo-bar": 1}, "foo-bar is not a valid key"),
        ({"a": 1}, "a is not a valid key"),
        ({"1abc": 1}, "1abc is not a valid key"),
        ({"$where": 1}, "$where is not a valid key"),
        ({"_foo": 1}, "_foo is not a recognised internal field"),
        ({"_updated_at": "2024-01-01T00:00:00Z"}, "_updated_at is not a recognised internal field"),
        ({"_week_start_at": "x"}, "_week_start_at is not a recognised internal field"),
        ({"trailing\n": 1}, "trailing\n is not a valid key"),
        ({"nested": {"a": 1}}, "nested has an invalid value"),
        ({"listed": [1, 2]}, "listed has an invalid value"),
        (
            {"_timestamp": 1234},
            "the _timestamp must be a date in the format yyyy-MM-ddT00:00:00Z",
        ),
        (
            {"_timestamp": "31-11-12T00:00:00"},
            "31-11-12T00:00:00 in the _timestamp field is not a valid date",
        ),
        (
            {"_start_at": "2024-13-01T00:00:00Z"},
            "2024-13-01T00:00:00Z in the _start_at field is not a valid date",
        ),
        ({"_end_at": None}, "the _end_at must be a date in the format yyyy-MM-ddT00:00:00Z"),
        (
            {"_timestamp": "9999-12-31T23:59:59-05:00"},
            "9999-12-31T23:59:59-05:00 in the _timestamp field is not a valid date",
        ),
        (
            {"_start_at": "0001-01-01T00:00:00+05:00"},
            "0001-01-01T00:00:00+05:00 in the _start_at field is not a valid date",
        ),
        ({"_id": ""}, "_id must be a non-empty string without whitespace"),
        ({"_id": "a b"}, "_id must be a non-empty string without whitespace"),
        ({"_id": 12}, "_id must be a non-empty string without whitespace"),
    ],
)
def test_each_rule_names_the_record_and_the_problem(record, message):
    assert messages([{"fine": 1}, record]) == [f"record 1: {message}"]


def test_keys_are_case_insensitive():
    (record,) = prepare_records({"CamelCase": 1, "UPPER_2": 2}, config(), NOW)
    assert record["CamelCase"] == 1 and record["UPPER_2"] == 2


def test_every_error_of_every_record_is_reported():
    assert messages([{"foo-bar": 1, "_foo": 2}, {"ok": 1}, "not an object"]) == [
        "record 0: foo-bar is not a valid key",
        "record 0: _foo is not a recognised internal field",
        "record 2: a record must be a JSON object",
    ]


def test_a_single_object_is_record_0():
    assert messages({"nested": [1]}) == ["record 0: nested has an invalid value"]


SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "definitions": {"positive": {"type": "integer", "minimum": 0}},
    "type": "object",
    "properties": {"count": {"$ref": "#/definitions/positive"}, "name": {"type": "string"}},
    "required": ["count"],
}


def test_schema_violations_use_jsonschema_wording_and_internal_refs_resolve():
    assert messages([{"count": -1, "name": 5}, {"name": "x"}], schema=SCHEMA) == [
        "record 0: -1 is less than the minimum of 0",
        "record 0: 5 is not of type 'string'",
        "record 1: 'count' is a required property",
    ]
    assert prepare_records({"count": 2}, config(schema=SCHEMA), NOW)[0]["count"] == 2


def test_any_draft_is_accepted():
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "maxProperties": 1}
    assert messages({"a_a": 1, "b_b": 2}, schema=schema) == [
        "record 0: {'a_a': 1, 'b_b': 2} has too many properties"
    ]


def test_auto_ids_are_urlsafe_base64_of_the_values_joined_by_dots():
    (record,) = prepare_records(
        {"_timestamp": "2024-01-01T00:00:00Z", "channel": "web/app", "nn": 7, "_id": "ignored"},
        config(auto_ids=["_timestamp", "channel", "nn"]),
        NOW,
    )
    expected = base64.urlsafe_b64encode(b"2024-01-01T00:00:00Z.web/app.7").decode()
    assert record["_id"] == expected


def test_missing_auto_id_fields_are_named():
    assert messages({"channel": "web"}, auto_ids=["_timestamp", "channel", "x"]) == [
        "record 0: The following required id fields are missing: _timestamp, x"
    ]


def test_an_empty_batch_prepares_nothing():
    assert prepare_records([], config(), NOW) == []


def test_memoised_period_keys_match_the_periods_module_before_and_after_1970():
    rng = random.Random(7)
    start = datetime(1960, 1, 1, tzinfo=UTC)
    for _ in range(5000):
        moment = start + timedelta(seconds=rng.randrange(80 * 365 * 86400))
        assert keys_for(moment) == period_keys(moment), moment


def test_a_nested_time_value_is_an_invalid_value():
    assert messages({"_timestamp": {"a": 1}}) == ["record 0: _timestamp has an invalid value"]


def test_times_are_kept_to_the_millisecond_as_every_engine_stores_them():
    now = datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    (record,) = prepare_records({"_timestamp": "2024-01-01T00:00:00.987654Z"}, config(), now)
    assert record["_timestamp"] == datetime(2024, 1, 1, 0, 0, 0, 987000, tzinfo=UTC)
    assert record["_updated_at"] == datetime(2024, 1, 1, 12, 0, 0, 123000, tzinfo=UTC)
