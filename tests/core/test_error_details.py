"""Every ``detail`` added to an error: the ``message`` stays SPEC's, the
``detail`` names what was wrong and what is allowed."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
from werkzeug.datastructures import MultiDict

from backdrop.core.data_sets import DataSetConfig
from backdrop.core.query_args import parse_query
from backdrop.core.records import prepare_records
from backdrop.errors import BadRequest, InvalidQuery, InvalidRecords
from backdrop.transformers import config

KEY_RULE = "keys match ^[a-z_][a-z0-9_]+$ in any case"


def error_of(query_string: str, raw_queries_allowed: bool = True) -> InvalidQuery:
    args = MultiDict(parse_qsl(query_string, keep_blank_values=True))
    with pytest.raises(InvalidQuery) as caught:
        parse_query(args, raw_queries_allowed=raw_queries_allowed)
    return caught.value


@pytest.mark.parametrize(
    ("query", "message", "detail"),
    [
        (
            "foo=1",
            "An unrecognised parameter was provided",
            "unknown parameter 'foo'; known: filter_by, filter_by_prefix, start_at, end_at, "
            "inclusive, period, duration, group_by, collect, sort_by, limit, flatten, format",
        ),
        (
            "zz=1&aa=2",
            "An unrecognised parameter was provided",
            "unknown parameters 'aa', 'zz'; known: filter_by,",
        ),
        (
            "group_by=channel&collect=value:avg",
            "Unknown collection method",
            "'avg' in collect=value:avg is not one; collect methods: sum, count, set, mean",
        ),
        ("filter_by=a:1", "filter_by field 'a' is not a valid field name", KEY_RULE),
        ("group_by=foo-bar", "group_by field 'foo-bar' is not a valid field name", KEY_RULE),
        (
            "filter_by=_secret:1",
            "filter_by field '_secret' is not a recognised internal field",
            "internal fields: _end_at, _id, _start_at, _timestamp, _updated_at",
        ),
        (
            "start_at=yesterday&end_at=2024-01-01T00:00:00Z",
            "start_at is not a valid datetime",
            "got 'yesterday'; use YYYY-MM-DDTHH:MM:SS then Z, ±HH:MM or nothing (UTC)",
        ),
        (
            "start_at=2024-02-30T00:00:00Z&end_at=2024-03-01T00:00:00Z",
            "start_at is not a valid datetime",
            "'2024-02-30T00:00:00Z' is not a real date and time",
        ),
        ("limit=-1", "limit must be a non-negative integer", "got limit=-1"),
        ("flatten=yes", "flatten must be either 'true' or 'false'", "got flatten=yes"),
    ],
)
def test_query_errors_keep_the_message_and_add_a_detail(query, message, detail):
    error = error_of(query)
    assert error.message == message
    assert detail in error.detail
    assert error.body() == {"status": "error", "message": message, "detail": error.detail}


def test_errors_without_a_detail_keep_the_spec_body():
    error = error_of("period=fortnight&duration=2")
    assert "detail" not in error.body()
    assert set(error.body()) == {"status", "message"}


def test_an_unknown_parameter_name_is_cut_short_in_the_detail():
    error = error_of("x" * 500 + "=1")
    assert "'" + "x" * 100 + "'" in error.detail and "x" * 101 not in error.detail


def record_error(records, **config) -> InvalidRecords:
    data_set = DataSetConfig(name="things", data_group="g", data_type="t", **config)
    with pytest.raises(InvalidRecords) as caught:
        prepare_records(records, data_set, datetime.now(UTC))
    return caught.value


@pytest.mark.parametrize(
    ("record", "message", "detail"),
    [
        ({"a": 1}, "record 0: a is not a valid key", KEY_RULE + " (at least two characters"),
        (
            {"_foo": 1},
            "record 0: _foo is not a recognised internal field",
            "the only _ fields a record may carry are _id, _timestamp, _start_at, _end_at",
        ),
        (
            {"nested": {"x": 1}},
            "record 0: nested has an invalid value",
            "values are strings, numbers, booleans or null, not objects or arrays",
        ),
        (
            {"_timestamp": "31-11-12T00:00:00"},
            "record 0: 31-11-12T00:00:00 in the _timestamp field is not a valid date",
            "times are ISO 8601 like 2024-01-01T09:00:00Z",
        ),
        (
            {"_timestamp": 12},
            "record 0: the _timestamp must be a date in the format yyyy-MM-ddT00:00:00Z",
            "times are ISO 8601",
        ),
    ],
)
def test_record_errors_keep_the_messages_and_add_the_rule(record, message, detail):
    error = record_error([record])
    assert error.messages == [message]
    assert detail in error.detail
    assert error.body() == {"status": "error", "messages": [message], "detail": error.detail}


def test_a_batch_detail_names_each_rule_once():
    error = record_error([{"a": 1}, {"b": 2, "nested": []}])
    assert error.detail.count("keys match") == 1
    assert "not objects or arrays" in error.detail


def test_a_missing_id_field_has_no_detail():
    error = record_error([{"x1": 1}], auto_ids=["stage"])
    assert error.messages == ["record 0: The following required id fields are missing: stage"]
    assert "detail" not in error.body()


def test_transform_options_with_a_bad_key_say_the_rule():
    body = {
        "type": "rollup",
        "query": {"period": "week"},
        "options": {"additionalFields": {"a": 1}},
        "output": {"data_group": "g", "data_type": "t"},
    }
    with pytest.raises(BadRequest) as caught:
        config.validate(body)
    assert caught.value.message == "options.additionalFields: a is not a valid key"
    assert KEY_RULE in caught.value.detail


def test_a_bad_transform_query_passes_its_detail_on():
    body = {"type": "rollup", "query": {"period": "week", "bogus": "1"}, "output": {}}
    with pytest.raises(BadRequest) as caught:
        config.validate(body)
    assert "unknown parameter 'bogus'" in (caught.value.detail or "")
