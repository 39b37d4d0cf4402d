"""Query string → Query: every rule of SPEC 5.2, its message and its order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest
from werkzeug.datastructures import MultiDict

from backdrop.core.periods import PERIODS
from backdrop.core.query import Collect, Filter, PrefixFilter, Sort
from backdrop.core.query_args import parse_query
from backdrop.errors import InvalidQuery

PERIOD_RANGE = "start_at=2014-01-06T00:00:00Z&end_at=2014-01-20T00:00:00Z"


def parse(query_string: str, raw_queries_allowed: bool = True):
    args = MultiDict(parse_qsl(query_string, keep_blank_values=True))
    return parse_query(args, raw_queries_allowed=raw_queries_allowed)


def message_of(query_string: str, raw_queries_allowed: bool = True) -> str:
    with pytest.raises(InvalidQuery) as caught:
        parse(query_string, raw_queries_allowed)
    assert caught.value.status == 400
    return caught.value.message


# --- what valid query strings mean ---


def test_empty_query_string_is_a_raw_query():
    query = parse("")
    assert not query.is_grouped
    assert query.format == "json"
    assert query.sort_by is None and query.limit is None


def test_full_grouped_query():
    query = parse(
        "filter_by=channel:web&filter_by=count:3&period=week&group_by=channel"
        "&group_by=region&collect=count:sum&collect=name&sort_by=count:sum:descending"
        f"&limit=5&flatten=true&{PERIOD_RANGE}&inclusive=true&format=csv"
    )
    assert query.filters == (Filter("channel", "web"), Filter("count", "3"))
    assert query.period is PERIODS["week"]
    assert query.group_by == ("channel", "region")
    assert query.collect == (Collect("count", "sum"), Collect("name", "set", legacy=True))
    assert query.sort_by == Sort("count:sum", descending=True)
    assert query.limit == 5
    assert query.flatten and query.inclusive
    assert query.start_at == datetime(2014, 1, 6, tzinfo=UTC)
    assert query.end_at == datetime(2014, 1, 20, tzinfo=UTC)
    assert query.format == "csv"


def test_filter_value_keeps_everything_after_the_first_colon():
    query = parse("filter_by=url:https://example.com/a:b")
    assert query.filters == (Filter("url", "https://example.com/a:b"),)


def test_filter_by_prefix():
    assert parse("filter_by_prefix=path:/foo").prefixes == (PrefixFilter("path", "/foo"),)


def test_field_names_follow_the_record_key_rule_case_insensitively():
    assert parse("group_by=isPaymentRequired").group_by == ("isPaymentRequired",)


def test_filter_by_internal_id_is_allowed():
    assert parse("filter_by=_id:abc").filters == (Filter("_id", "abc"),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-01-01T00:00:00Z", datetime(2014, 1, 1, tzinfo=UTC)),
        ("2014-01-01T00:00:00", datetime(2014, 1, 1, tzinfo=UTC)),
        ("2014-01-01T02:00:00+02:00", datetime(2014, 1, 1, tzinfo=UTC)),
        ("2013-12-31T19:00:00-05:00", datetime(2014, 1, 1, tzinfo=UTC)),
    ],
)
def test_datetime_forms_are_stored_as_utc(text, expected):
    query = parse(f"start_at={text.replace('+', '%2B')}&end_at=2015-01-01T00:00:00Z")
    assert query.start_at == expected
    assert query.start_at.utcoffset() == timedelta(0)


def test_an_unencoded_plus_offset_still_parses():
    # "+" in a query string decodes to a space
    query = parse("start_at=2014-01-01T01:00:00+01:00&end_at=2015-01-01T00:00:00Z")
    assert query.start_at == datetime(2014, 1, 1, tzinfo=UTC)


def test_legacy_and_explicit_set_collects_merge_into_one():
    query = parse("group_by=a_field&collect=name&collect=name:set")
    assert query.collect == (Collect("name", "set", legacy=True),)


def test_repeated_group_by_field_counts_once():
    assert parse("group_by=channel&group_by=channel").group_by == ("channel",)


def test_boolean_parameters_ignore_case():
    assert parse(f"period=day&{PERIOD_RANGE}&inclusive=TRUE").inclusive is True


def test_mapping_args_for_transform_queries():
    query = parse_query({"period": "week", "group_by": ["stage"], "duration": 2, "flatten": True})
    assert query.group_by == ("stage",) and query.duration == 2 and query.flatten


# --- 1. unknown parameters ---


@pytest.mark.parametrize("query_string", ["foo=bar", "group_by=a_b&_=123", "filterby=a:b"])
def test_unknown_parameter(query_string):
    assert message_of(query_string) == "An unrecognised parameter was provided"


def test_single_valued_parameter_given_twice():
    assert message_of("limit=1&limit=2") == "limit can only be given once"


# --- 2. period ranges ---

PERIOD_NEEDS_RANGE = (
    "Either 'duration' or both 'start_at' and 'end_at' are required for a period query"
)


@pytest.mark.parametrize(
    "query_string",
    [
        "period=day",
        "period=day&start_at=2014-01-01T00:00:00Z",
        "period=day&end_at=2014-01-01T00:00:00Z",
    ],
)
def test_period_needs_duration_or_both_bounds(query_string):
    assert message_of(query_string) == PERIOD_NEEDS_RANGE


def test_period_limit_needs_group_by():
    assert message_of("period=day&duration=3&limit=2") == (
        "A period query can only be limited if it is grouped - please add 'group_by'"
    )


def test_period_limit_with_group_by_is_fine():
    assert parse("period=day&duration=3&limit=2&group_by=channel").limit == 2


# --- 3. datetimes ---


@pytest.mark.parametrize(
    "text",
    [
        "2014-01-01",
        "2014-01-01T00:00",
        "2014-01-01 00:00:00",
        "2014-01-01T00:00:00.000Z",
        "2014-13-01T00:00:00Z",
        "2014-02-30T00:00:00Z",
        "2014-01-01T24:00:00Z",
        "2014-01-01T00:00:00+25:00",
        "yesterday",
        "",
        "9999-12-31T23:00:00-05:00",
    ],
)
def test_invalid_datetimes(text):
    text = text.replace("+", "%2B")
    assert message_of(f"start_at={text}&end_at=2014-01-01T00:00:00Z") == (
        "start_at is not a valid datetime"
    )
    assert message_of(f"start_at=2014-01-01T00:00:00Z&end_at={text}") == (
        "end_at is not a valid datetime"
    )


def test_leap_day_is_a_valid_date_only_in_leap_years():
    assert parse("start_at=2016-02-29T00:00:00Z&end_at=2016-03-01T00:00:00Z").start_at.day == 29
    assert message_of("start_at=2015-02-29T00:00:00Z&end_at=2015-03-01T00:00:00Z") == (
        "start_at is not a valid datetime"
    )


# --- 4. filters ---


def test_filter_by_and_prefix_together():
    assert message_of("filter_by=a_b:c&filter_by_prefix=a_b:c") == (
        "Cannot use filter_by and filter_by_prefix in the same query"
    )


@pytest.mark.parametrize("parameter", ["filter_by", "filter_by_prefix"])
def test_filter_without_colon(parameter):
    assert message_of(f"{parameter}=channel") == (
        f"{parameter} must be a field name and value separated by a colon (:) "
        "eg. authority:Westminster"
    )


@pytest.mark.parametrize("parameter", ["filter_by", "filter_by_prefix"])
def test_filter_dollar_field(parameter):
    assert message_of(f"{parameter}=$where:1") == (
        f"{parameter} cannot use a field name starting with $"
    )


@pytest.mark.parametrize("field", ["foo-bar", "a", "", "x y", "caf\u00e9"])
def test_filter_invalid_field(field):
    assert message_of(f"filter_by={field}:1") == (
        f"filter_by field {field!r} is not a valid field name"
    )


# --- 5. period names ---


@pytest.mark.parametrize("name", ["fortnight", "Day", ""])
def test_unknown_period(name):
    assert message_of(f"period={name}&duration=2") == (
        "Unrecognised grouping for period. Supported periods include: "
        "hour, day, week, month, quarter, year"
    )


# --- 6. sort_by ---


@pytest.mark.parametrize("text", ["channel", ":ascending", ""])
def test_malformed_sort_by(text):
    assert message_of(f"sort_by={text}") == (
        "sort_by must be a field name and sort direction separated by a colon (:) "
        "eg. authority:ascending"
    )


@pytest.mark.parametrize("text", ["channel:up", "channel:ASCENDING", "channel:"])
def test_unknown_sort_direction(text):
    assert message_of(f"sort_by={text}") == (
        "Unrecognised sort direction. Supported directions include: ascending, descending"
    )


def test_sort_by_period_without_group_by():
    assert message_of("period=day&duration=3&sort_by=_count:ascending") == (
        "Cannot sort for period queries without group_by. Period queries are always sorted by time."
    )


def test_sort_by_dollar_field():
    assert message_of("sort_by=$x:ascending") == "sort_by cannot use a field name starting with $"


def test_sort_by_invalid_field():
    assert message_of("sort_by=foo-bar:ascending") == (
        "sort_by field 'foo-bar' is not a valid field name"
    )


def test_sort_by_collect_key_with_unknown_method():
    assert message_of("group_by=a_b&sort_by=value:median:ascending") == (
        "sort_by key 'value:median' is not a field name or a collect key like value:sum"
    )


# --- 7. group_by ---


def test_group_by_internal_field():
    assert message_of("group_by=_timestamp") == (
        "Cannot group by internal fields, internal fields start with an underscore"
    )


@pytest.mark.parametrize("field", ["foo-bar", "$where", "x"])
def test_group_by_invalid_field(field):
    message = message_of(f"group_by={field}")
    if field.startswith("$"):
        assert message == "group_by cannot use a field name starting with $"
    else:
        assert message == f"group_by field {field!r} is not a valid field name"


# --- 8. limit and duration ---


@pytest.mark.parametrize("value", ["-1", "1.5", "ten", "", "\u0661"])
def test_limit_not_a_non_negative_integer(value):
    assert message_of(f"limit={value}") == "limit must be a non-negative integer"


def test_limit_zero_is_allowed():
    assert parse("limit=0").limit == 0


@pytest.mark.parametrize("value", ["-1", "1.5", "ten", "0"])
def test_duration_not_a_positive_integer(value):
    assert message_of(f"period=day&duration={value}") == "duration must be a positive integer"


# --- 9. collect ---


def test_collect_needs_grouping():
    assert (
        message_of("collect=value") == "collect is only allowed when grouping by group_by or period"
    )


def test_collect_with_period_only_is_fine():
    assert parse("period=day&duration=2&collect=value:sum").collect == (Collect("value", "sum"),)


@pytest.mark.parametrize("method", ["median", "SUM", "", "sum:sum"])
def test_unknown_collect_method(method):
    assert message_of(f"group_by=a_b&collect=value:{method}") == "Unknown collection method"


def test_collect_internal_field():
    assert message_of("group_by=a_b&collect=_id") == (
        "Cannot collect internal fields, internal fields start with an underscore"
    )


def test_collect_group_by_field():
    assert message_of("group_by=channel&collect=channel:count") == (
        "Cannot collect a field that is also in group_by"
    )


def test_collect_invalid_field():
    assert message_of("group_by=a_b&collect=$x:sum") == (
        "collect cannot use a field name starting with $"
    )
    assert message_of("group_by=a_b&collect=a-b") == "collect field 'a-b' is not a valid field name"


# --- 10. time parameters together ---


def test_start_end_and_duration_together():
    assert message_of(f"period=day&duration=2&{PERIOD_RANGE}").startswith(
        "Absolute and relative time cannot be requested at the same time"
    )


def test_start_at_alone():
    assert message_of("start_at=2014-01-01T00:00:00Z") == (
        "Use of 'start_at' requires 'end_at' or 'duration'"
    )


def test_end_at_alone():
    assert message_of("end_at=2014-01-01T00:00:00Z") == (
        "Use of 'end_at' requires 'start_at' or 'duration'"
    )


def test_duration_without_period():
    assert message_of("duration=3&group_by=a_b") == (
        "If 'duration' is requested (for relative time), 'period' is required - "
        "please add a period (like 'day', 'month' etc)"
    )


# --- 11. flatten and inclusive ---


@pytest.mark.parametrize("parameter", ["flatten", "inclusive"])
def test_booleans_must_be_true_or_false(parameter):
    assert message_of(f"{PERIOD_RANGE}&{parameter}=yes") == (
        f"{parameter} must be either 'true' or 'false'"
    )


def test_inclusive_needs_a_bound():
    assert message_of("inclusive=true") == "inclusive can only be used with start_at or end_at"


def test_unknown_format():
    assert message_of("format=xml") == "format must be either 'json' or 'csv'"


# --- order: the first broken rule is the one reported ---


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("foo=1&period=day", "An unrecognised parameter was provided"),
        ("period=day&start_at=nonsense", PERIOD_NEEDS_RANGE),
        (
            "start_at=nonsense&end_at=2014-01-01T00:00:00Z&filter_by=x",
            "start_at is not a valid datetime",
        ),
        (
            "filter_by=x&period=fortnight&duration=1",
            "filter_by must be a field name and value separated by a colon (:) "
            "eg. authority:Westminster",
        ),
        (
            "period=fortnight&duration=1&sort_by=x",
            "Unrecognised grouping for period. Supported periods include: "
            "hour, day, week, month, quarter, year",
        ),
        (
            "sort_by=x&group_by=_id",
            "sort_by must be a field name and sort direction separated by a colon (:) "
            "eg. authority:ascending",
        ),
        (
            "group_by=_id&limit=-1",
            "Cannot group by internal fields, internal fields start with an underscore",
        ),
        ("limit=-1&collect=x:median", "limit must be a non-negative integer"),
        ("collect=value&duration=3", "collect is only allowed when grouping by group_by or period"),
        (
            "group_by=a_b&duration=3&flatten=maybe",
            "If 'duration' is requested (for relative time), 'period' is required - "
            "please add a period (like 'day', 'month' etc)",
        ),
        ("flatten=maybe&format=xml", "flatten must be either 'true' or 'false'"),
    ],
)
def test_first_failure_in_spec_order_is_reported(query_string, expected):
    assert message_of(query_string) == expected


# --- raw_queries_allowed: false ---


def test_restricted_raw_query():
    assert message_of("", raw_queries_allowed=False) == "querying for raw data is not allowed"
    assert message_of("filter_by=a_b:c", raw_queries_allowed=False) == (
        "querying for raw data is not allowed"
    )


def test_restricted_general_rules_come_first():
    assert message_of("foo=bar", raw_queries_allowed=False) == (
        "An unrecognised parameter was provided"
    )


def test_restricted_grouped_query_is_fine():
    assert parse("group_by=channel", raw_queries_allowed=False).group_by == ("channel",)


def test_restricted_bounds_must_be_midnight():
    assert (
        message_of(
            "group_by=a_b&start_at=2014-01-01T01:00:00Z&end_at=2014-01-08T00:00:00Z",
            raw_queries_allowed=False,
        )
        == "start_at must be midnight"
    )
    assert (
        message_of(
            "group_by=a_b&start_at=2014-01-01T00:00:00Z&end_at=2014-01-09T00:00:01Z",
            raw_queries_allowed=False,
        )
        == "end_at must be midnight"
    )


def test_restricted_midnight_is_utc():
    # midnight in +01:00 is 23:00 UTC
    assert (
        message_of(
            "group_by=a_b&start_at=2014-01-02T00:00:00%2B01:00&end_at=2014-01-09T00:00:00Z",
            raw_queries_allowed=False,
        )
        == "start_at must be midnight"
    )


def test_restricted_minimum_span_is_seven_days():
    assert (
        message_of(
            "group_by=a_b&start_at=2014-01-01T00:00:00Z&end_at=2014-01-07T00:00:00Z",
            raw_queries_allowed=False,
        )
        == "The minimum time span for a query is 7 days"
    )
    query = parse(
        "group_by=a_b&start_at=2014-01-01T00:00:00Z&end_at=2014-01-08T00:00:00Z",
        raw_queries_allowed=False,
    )
    assert query.end_at - query.start_at == timedelta(days=7)


def test_restricted_hour_period_is_exempt():
    query = parse(
        "period=hour&start_at=2014-01-01T01:00:00Z&end_at=2014-01-01T05:00:00Z",
        raw_queries_allowed=False,
    )
    assert query.period is PERIODS["hour"]


def test_restricted_week_bounds_are_mondays():
    # 2014-01-01 is a Wednesday, 2014-01-06 a Monday
    assert (
        message_of(
            "period=week&start_at=2014-01-01T00:00:00Z&end_at=2014-01-20T00:00:00Z",
            raw_queries_allowed=False,
        )
        == "start_at must be a monday"
    )
    assert (
        message_of(
            "period=week&start_at=2014-01-06T00:00:00Z&end_at=2014-01-21T00:00:00Z",
            raw_queries_allowed=False,
        )
        == "end_at must be a monday"
    )
    assert parse(f"period=week&{PERIOD_RANGE}", raw_queries_allowed=False).period.name == "week"


def test_restricted_month_bounds_are_first_of_month():
    assert (
        message_of(
            "period=month&start_at=2014-01-02T00:00:00Z&end_at=2014-03-01T00:00:00Z",
            raw_queries_allowed=False,
        )
        == "start_at must be midnight on the first day of the month"
    )
    assert (
        parse(
            "period=month&start_at=2014-01-01T00:00:00Z&end_at=2014-03-01T00:00:00Z",
            raw_queries_allowed=False,
        ).period.name
        == "month"
    )


def test_restricted_duration_with_start_at_checks_that_bound():
    assert (
        message_of(
            "period=week&duration=2&start_at=2014-01-07T00:00:00Z", raw_queries_allowed=False
        )
        == "start_at must be a monday"
    )


def test_restricted_duration_alone_is_fine():
    assert parse("period=day&duration=7", raw_queries_allowed=False).duration == 7


# --- sort_by keys a grouped row must have ---


@pytest.mark.parametrize(
    "query_string",
    [
        "group_by=channel&sort_by=channel:ascending",
        "group_by=channel&sort_by=_count:descending",
        "group_by=channel&collect=value:sum&sort_by=value:sum:descending",
        "group_by=channel&collect=name&sort_by=name:ascending",
        "group_by=channel&collect=name&sort_by=name:set:ascending",
        f"group_by=channel&period=week&{PERIOD_RANGE}&sort_by=_group_count:descending",
    ],
)
def test_sort_by_keys_groups_have(query_string):
    assert parse(query_string).sort_by is not None


@pytest.mark.parametrize(
    ("query_string", "key"),
    [
        ("group_by=channel&sort_by=region:ascending", "region"),
        ("group_by=channel&collect=value:sum&sort_by=value:mean:ascending", "value:mean"),
        ("group_by=channel&sort_by=_group_count:ascending", "_group_count"),
    ],
)
def test_sort_by_key_no_group_has(query_string, key):
    assert message_of(query_string) == (
        f"Cannot sort by {key!r}: no group has that key "
        "(sort by a group_by field, _count or a collect key such as value:sum)"
    )


def test_raw_sort_by_collect_key():
    assert message_of("sort_by=value:sum:ascending") == (
        "Cannot sort by 'value:sum': raw records have no collect keys"
    )


def test_raw_sort_by_any_field():
    assert parse("sort_by=_timestamp:descending").sort_by == Sort("_timestamp", descending=True)


def test_offsets_other_than_utc_are_converted():
    query = parse("start_at=2014-06-01T12:00:00-07:00&end_at=2014-06-02T00:00:00Z")
    assert query.start_at == datetime(2014, 6, 1, 19, tzinfo=UTC)


# --- internal fields: only those a stored record shows ---


@pytest.mark.parametrize("parameter", ["filter_by", "filter_by_prefix"])
@pytest.mark.parametrize("field", ["_week_start_at", "_foo"])
def test_filters_on_hidden_internal_fields(parameter, field):
    assert message_of(f"{parameter}={field}:x") == (
        f"{parameter} field {field!r} is not a recognised internal field"
    )


@pytest.mark.parametrize("field", ["_timestamp", "_updated_at", "_start_at", "_end_at"])
def test_filters_on_time_fields_point_to_start_at_and_end_at(field):
    assert message_of(f"filter_by={field}:2014-01-01T00:00:00Z") == (
        f"filter_by cannot match the time field {field}: "
        "use start_at and end_at to select a time range"
    )


def test_raw_sort_by_hidden_internal_field():
    assert message_of("sort_by=_day_start_at:ascending") == (
        "sort_by field '_day_start_at' is not a recognised internal field"
    )
    assert message_of("sort_by=_count:ascending") == (
        "sort_by field '_count' is not a recognised internal field"
    )


@pytest.mark.parametrize("field", ["_id", "_timestamp", "_updated_at", "_start_at", "_end_at"])
def test_raw_sort_by_shown_internal_fields(field):
    assert parse(f"sort_by={field}:ascending").sort_by == Sort(field)


def test_group_by_hidden_internal_field_has_the_group_by_message():
    assert message_of("group_by=_week_start_at") == (
        "Cannot group by internal fields, internal fields start with an underscore"
    )


def test_a_trailing_newline_is_not_part_of_a_valid_name_or_time():
    assert (
        message_of("group_by=channel%0A") == "group_by field 'channel\\n' is not a valid field name"
    )
    assert message_of("start_at=2014-01-01T00:00:00Z%0A&end_at=2014-01-02T00:00:00Z") == (
        "start_at is not a valid datetime"
    )
