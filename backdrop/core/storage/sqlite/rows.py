"""Records as rows of a data set's table, and back.

Each data set's records live in their own table: ``_id``, ``_timestamp``,
``_updated_at`` and the period keys as INTEGER columns (epoch microseconds,
indexed where queries need it) and the record itself as JSON text, which
filters and aggregates read with SQLite's JSON functions. Identifiers come
only from validated data-set names; values are always bound.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, overload

import orjson

from backdrop.core import messages
from backdrop.core.names import NAME_PATTERN
from backdrop.core.periods import PERIOD_KEYS, period_keys
from backdrop.core.storage.base import TIME_FIELDS, Record
from backdrop.errors import InvalidQuery

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
PERIOD_KEY_SET = frozenset(PERIOD_KEYS)  # benchmarks/bulk.py builds its baseline rows with it
COLUMNS = ("_id", "_timestamp", "_updated_at", *PERIOD_KEYS, "data")
_NO_PERIODS = (None,) * len(PERIOD_KEYS)
_HOUR = 3_600_000_000  # microseconds
_DAY = 24 * _HOUR
# PERIOD_KEYS run hour, day, week, month, quarter, year: the hour start is
# arithmetic, the others are shared by every moment of a day.
_DAY_KEYS = PERIOD_KEYS[1:]
_HOUR_KEY, _DAY_KEY, _WEEK_KEY, _MONTH_KEY, _QUARTER_KEY, _YEAR_KEY = PERIOD_KEYS


@overload
def micros(moment: datetime) -> int: ...
@overload
def micros(moment: None) -> None: ...
@overload
def micros(moment: datetime | None) -> int | None: ...
def micros(moment: datetime | None) -> int | None:
    return None if moment is None else (moment - EPOCH) // MICROSECOND


def moment(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def table(name: str, suffix: str = "") -> str:
    """The quoted identifier of a data set's records table (or one of its indexes)."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid data set name")
    return f'"records_{name}{suffix}"'


def path(field: str) -> str:
    """The JSON path of a top-level key (bound as a parameter, never spliced)."""
    if '"' in field:
        raise InvalidQuery(f"{field} is not a valid field name")
    return f'$."{field}"'


_PERIOD_COLUMNS: dict[int, tuple[int, ...]] = {}  # hour start → its period columns
_DAY_COLUMNS: dict[int, tuple[int, ...]] = {}  # day start → day … year columns


def _period_columns(hour: int) -> tuple[int, ...]:
    """The period columns of every moment in the hour starting at ``hour``
    (epoch microseconds), memoised by hour and by day across batches."""
    if len(_PERIOD_COLUMNS) > 100_000:
        _PERIOD_COLUMNS.clear()
        _DAY_COLUMNS.clear()
    day = hour - hour % _DAY
    day_columns = _DAY_COLUMNS.get(day)
    if day_columns is None:
        keys = period_keys(moment(day))
        day_columns = _DAY_COLUMNS[day] = tuple(micros(keys[k]) for k in _DAY_KEYS)
    columns = _PERIOD_COLUMNS[hour] = (hour, *day_columns)
    return columns


def _data(record: Record) -> Record:
    """The record without its period keys (they are columns, not JSON)."""
    data = record.copy()
    try:  # the usual case: prepared with all six
        del data[_HOUR_KEY], data[_DAY_KEY], data[_WEEK_KEY]
        del data[_MONTH_KEY], data[_QUARTER_KEY], data[_YEAR_KEY]
    except KeyError:
        for key in PERIOD_KEYS:
            data.pop(key, None)
    return data


def rows(records: list[Record]) -> list[tuple[Any, ...]]:
    """Records as rows of ``COLUMNS``: the ingest hot path.

    The period columns are the period starts of ``_timestamp`` (as the
    period keys handed in are), looked up once per hour. The ``data`` JSON
    leaves the period keys out. Raises ``TypeError`` for a value JSON
    cannot hold (see ``unstorable``).
    """
    columns = _PERIOD_COLUMNS
    dumps = orjson.dumps
    updated_at: datetime | None = None  # a batch shares one _updated_at
    updated: int | None = None
    result: list[tuple[Any, ...]] = []
    append = result.append
    for record in records:
        if record["_updated_at"] is not updated_at:
            updated_at = record["_updated_at"]
            updated = micros(updated_at)
        timestamp = record.get("_timestamp")
        if timestamp is None:
            append((record["_id"], None, updated, *_NO_PERIODS, dumps(_data(record)).decode()))
            continue
        stamp = (timestamp - EPOCH) // MICROSECOND
        hour = stamp - stamp % _HOUR
        periods = columns.get(hour) or _period_columns(hour)
        append((record["_id"], stamp, updated, *periods, dumps(_data(record)).decode()))
    return result


def unstorable(records: list[Record]) -> list[str]:
    """Which values of a batch cannot be serialised, naming record and key."""
    problems = []
    for index, record in enumerate(records):
        for key, value in record.items():
            try:
                orjson.dumps(value)
            except TypeError as error:
                problems.append(messages.unstorable(f"record {index}", key, str(error)))
    return problems


def record(text: str) -> Record:
    """A stored record as the contract returns it: time fields as datetimes."""
    result: Record = orjson.loads(text)
    for key in TIME_FIELDS:
        value = result.get(key)
        if value is not None:
            result[key] = datetime.fromisoformat(value)
    return result
