"""Period arithmetic: bucket starts, shifts and ranges, in UTC, weeks from Monday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from backdrop.core.periods import PERIOD_KEYS, PERIODS, period_keys


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "moment", "start"),
    [
        ("hour", utc(2014, 3, 5, 13, 59, 59, 999999), utc(2014, 3, 5, 13)),
        ("day", utc(2014, 3, 5, 23, 59), utc(2014, 3, 5)),
        # 2014-03-05 is a Wednesday; its week starts on Monday 3rd
        ("week", utc(2014, 3, 5, 12), utc(2014, 3, 3)),
        ("week", utc(2014, 3, 3), utc(2014, 3, 3)),
        ("week", utc(2014, 3, 9, 23, 59), utc(2014, 3, 3)),  # Sunday
        # a week across a year boundary: Wed 2014-01-01 is in the week of Mon 2013-12-30
        ("week", utc(2014, 1, 1), utc(2013, 12, 30)),
        ("month", utc(2014, 3, 31, 23), utc(2014, 3, 1)),
        ("quarter", utc(2014, 1, 1), utc(2014, 1, 1)),
        ("quarter", utc(2014, 3, 31, 23), utc(2014, 1, 1)),
        ("quarter", utc(2014, 4, 1), utc(2014, 4, 1)),
        ("quarter", utc(2014, 8, 15), utc(2014, 7, 1)),
        ("quarter", utc(2014, 12, 31), utc(2014, 10, 1)),
        ("year", utc(2016, 12, 31, 23, 59), utc(2016, 1, 1)),
    ],
)
def test_start_of_period(period, moment, start):
    assert PERIODS[period].start(moment) == start


def test_start_is_taken_in_utc():
    # 00:30 on 1 April in +01:00 is still 31 March in UTC
    moment = datetime(2014, 4, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert PERIODS["month"].start(moment) == utc(2014, 3, 1)
    assert PERIODS["day"].start(moment) == utc(2014, 3, 31)


@pytest.mark.parametrize(
    ("period", "moment", "end"),
    [
        ("month", utc(2014, 1, 31), utc(2014, 2, 1)),
        ("month", utc(2014, 2, 10), utc(2014, 3, 1)),
        ("month", utc(2014, 12, 10), utc(2015, 1, 1)),
        ("quarter", utc(2014, 11, 10), utc(2015, 1, 1)),
        ("week", utc(2014, 12, 31), utc(2015, 1, 5)),
        ("day", utc(2016, 2, 28, 12), utc(2016, 2, 29)),
        ("day", utc(2015, 2, 28, 12), utc(2015, 3, 1)),
        ("year", utc(2016, 2, 29), utc(2017, 1, 1)),
    ],
)
def test_end_of_period(period, moment, end):
    assert PERIODS[period].end(moment) == end


def test_months_shift_to_the_first_and_keep_short_months():
    month = PERIODS["month"]
    assert [month.shift(utc(2014, 1, 1), n) for n in range(4)] == [
        utc(2014, 1, 1),
        utc(2014, 2, 1),
        utc(2014, 3, 1),
        utc(2014, 4, 1),
    ]
    assert month.shift(utc(2014, 3, 1), -13) == utc(2013, 2, 1)


def test_leap_years():
    day, month = PERIODS["day"], PERIODS["month"]
    assert day.starts(utc(2016, 2, 28), utc(2016, 3, 1)) == [utc(2016, 2, 28), utc(2016, 2, 29)]
    assert day.starts(utc(2015, 2, 28), utc(2015, 3, 1)) == [utc(2015, 2, 28)]
    assert month.end(utc(2016, 2, 29, 12)) == utc(2016, 3, 1)
    assert PERIODS["year"].shift(utc(2016, 1, 1), 1) - utc(2016, 1, 1) == timedelta(days=366)


def test_quarters_in_a_year():
    quarter = PERIODS["quarter"]
    assert quarter.starts(utc(2014, 2, 15), utc(2015, 1, 1)) == [
        utc(2014, 1, 1),
        utc(2014, 4, 1),
        utc(2014, 7, 1),
        utc(2014, 10, 1),
    ]


def test_starts_cover_every_period_overlapping_the_range():
    week = PERIODS["week"]
    # Wed 2014-01-01 to Wed 2014-01-15 (exclusive) touches three weeks
    assert week.starts(utc(2014, 1, 1), utc(2014, 1, 15)) == [
        utc(2013, 12, 30),
        utc(2014, 1, 6),
        utc(2014, 1, 13),
    ]
    # an exclusive end on a boundary does not add the period starting there
    assert week.starts(utc(2014, 1, 6), utc(2014, 1, 20)) == [utc(2014, 1, 6), utc(2014, 1, 13)]
    assert week.starts(utc(2014, 1, 20), utc(2014, 1, 6)) == []


def test_hours_across_a_day():
    hours = PERIODS["hour"].starts(utc(2014, 1, 1, 22), utc(2014, 1, 2, 2))
    assert hours == [utc(2014, 1, 1, 22), utc(2014, 1, 1, 23), utc(2014, 1, 2), utc(2014, 1, 2, 1)]


def test_starts_of_boundaries_are_themselves():
    assert PERIODS["week"].start(utc(2014, 1, 6)) == utc(2014, 1, 6)
    assert PERIODS["week"].start(utc(2014, 1, 7)) == utc(2014, 1, 6)
    assert PERIODS["day"].start(utc(2014, 1, 7, 0, 0, 1)) == utc(2014, 1, 7)


def test_period_keys_of_a_timestamp():
    keys = period_keys(utc(2014, 8, 13, 10, 45))  # a Wednesday
    assert tuple(keys) == PERIOD_KEYS
    assert keys == {
        "_hour_start_at": utc(2014, 8, 13, 10),
        "_day_start_at": utc(2014, 8, 13),
        "_week_start_at": utc(2014, 8, 11),
        "_month_start_at": utc(2014, 8, 1),
        "_quarter_start_at": utc(2014, 7, 1),
        "_year_start_at": utc(2014, 1, 1),
    }
