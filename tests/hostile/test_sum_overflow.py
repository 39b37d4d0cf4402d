"""A sum past signed 64 bits has the same answer and type on every engine:
a float (once ``null`` on one engine, an integer on another)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
from werkzeug.datastructures import MultiDict

from backdrop.core import reading
from backdrop.core.data_sets import Registry
from backdrop.core.query_args import parse_query
from backdrop.core.records import prepare_records

NOW = datetime(2024, 3, 12, tzinfo=UTC)
BIG = 2**62
RECORDS = [
    {"_id": f"r{i}", "_timestamp": f"2024-01-0{i + 1}T00:00:00Z", "kind": "a", "value": BIG}
    for i in range(3)
]


def answer(engine, query_string: str) -> list[dict]:
    query = parse_query(MultiDict(parse_qsl(query_string)))
    return reading.execute(engine, "overflow", query, now=NOW)


@pytest.fixture
def seeded(engine):
    config, _ = Registry(engine).create({"name": "overflow"})
    engine.records.save("overflow", prepare_records(RECORDS, config, NOW))
    return engine


@pytest.mark.parametrize(
    "query",
    [
        "group_by=kind&collect=value:sum",
        "period=week&start_at=2024-01-01T00:00:00Z&end_at=2024-01-08T00:00:00Z&collect=value:sum",
        "group_by=kind&period=week&start_at=2024-01-01T00:00:00Z&end_at=2024-01-08T00:00:00Z"
        "&collect=value:sum",
    ],
)
def test_an_overflowing_sum_is_the_same_float_on_every_engine(seeded, query):
    (row,) = answer(seeded, query)
    assert row["value:sum"] == float(3 * BIG) and isinstance(row["value:sum"], float), row
    for period in row.get("values", []):
        assert period["value:sum"] == float(3 * BIG) and isinstance(period["value:sum"], float)


def test_a_sum_within_64_bits_stays_an_integer(seeded):
    rows = answer(seeded, "group_by=kind&collect=value:sum&filter_by=_id:r0")
    # one record: 2**62 fits
    assert rows and all(isinstance(row["value:sum"], int) for row in rows), rows
