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


def rows(records: list[Record]) -> list[tuple[Any, ...]]:
    """Records as rows of ``COLUMNS``: the ingest hot path.

    The period columns are the period starts of ``_timestamp`` (as the
    period keys handed in are): the hour by arithmetic, the rest looked up
    once per day of the batch. The ``data`` JSON leaves the period keys out.
    Raises ``TypeError`` for a value JSON cannot hold (see ``unstorable``).
    """
    day_starts: dict[int, tuple[int | None, ...]] = {}
    updated: dict[datetime, int | None] = {}
    result = []
    for record in records:
        updated_at = record["_updated_at"]
        if updated_at not in updated:
            updated[updated_at] = micros(updated_at)
        timestamp = record.get("_timestamp")
        times: tuple[int | None, ...]
        if timestamp is None:
            times = (None, updated[updated_at], *_NO_PERIODS)
        else:
            stamp = (timestamp - EPOCH) // MICROSECOND
            day = stamp - stamp % _DAY
            if day not in day_starts:
                keys = period_keys(moment(day))
                day_starts[day] = tuple(micros(keys[k]) for k in _DAY_KEYS)
            times = (stamp, updated[updated_at], stamp - stamp % _HOUR, *day_starts[day])
        data = record.copy()
        for key in PERIOD_KEYS:
            data.pop(key, None)
        result.append((record["_id"], *times, orjson.dumps(data).decode()))
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
