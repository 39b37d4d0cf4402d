"""SQLite row building (the write hot path): the row does not depend on
whether the record carries its period keys or in what order its keys come."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from backdrop.core.periods import period_keys
from backdrop.core.storage.sqlite.rows import COLUMNS, micros, rows

UPDATED = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def _record(moment: datetime | None, **fields) -> dict:
    record = {"value": 1, **fields, "_id": "a", "_updated_at": UPDATED}
    if moment is not None:
        record["_timestamp"] = moment
    return record


def test_period_columns_are_the_period_starts_with_or_without_period_keys():
    moments = [
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2024, 2, 29, 13, 30, tzinfo=UTC),
        datetime(2024, 2, 29, 13, 59, 59, 999000, tzinfo=UTC),
        datetime(2025, 12, 31, 23, 0, tzinfo=UTC),
    ]
    for moment in moments:
        bare = _record(moment)
        keyed = {**bare, **period_keys(moment)}
        (bare_row,) = rows([bare])
        (keyed_row,) = rows([keyed])
        assert bare_row == keyed_row
        row = dict(zip(COLUMNS, bare_row, strict=True))
        assert row["_timestamp"] == micros(moment)
        assert row["_updated_at"] == micros(UPDATED)
        for key, start in period_keys(moment).items():
            assert row[key] == micros(start), (moment, key)
        assert orjson.loads(row["data"]) == orjson.loads(orjson.dumps(bare))


def test_a_record_without_timestamp_has_no_period_columns_and_drops_stray_keys():
    stray = period_keys(datetime(2024, 1, 1, tzinfo=UTC))
    (row,) = rows([_record(None, **stray)])
    values = dict(zip(COLUMNS, row, strict=True))
    assert values["_timestamp"] is None
    assert all(values[key] is None for key in stray)
    assert orjson.loads(values["data"]) == {
        "value": 1,
        "_id": "a",
        "_updated_at": UPDATED.isoformat(),
    }
