"""Every engine answers the same read queries with the same JSON.

Each query runs through ``reading.execute`` on each engine of the shared
``engine`` fixture and is compared, byte for byte as JSON, with the answer of
a reference SQLite database seeded with the same records (a separate file,
so the SQLite run also checks that answers do not depend on the database).
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from backdrop.core import reading
from backdrop.core.data_sets import Registry
from backdrop.core.query_args import parse_query
from backdrop.core.records import prepare_records
from backdrop.core.storage.sqlite import SQLiteEngine
from backdrop.errors import InvalidQuery

NOW = datetime(2014, 3, 12, 9, 30, tzinfo=UTC)  # whole seconds: MongoDB keeps milliseconds

RECORDS = [
    {"_id": "r01", "_timestamp": "2014-01-06T09:00:00Z", "channel": "web", "region": "north",
     "count": 3, "score": 0.5, "paid": True, "tag": "alpha"},
    {"_id": "r02", "_timestamp": "2014-01-06T10:00:00Z", "channel": "web", "region": "south",
     "count": 1, "score": 1.25, "paid": False, "tag": "beta"},
    {"_id": "r03", "_timestamp": "2014-01-08T10:00:00Z", "channel": "app", "region": "north",
     "count": 7, "score": None, "paid": True, "tag": "alpha", "_start_at": "2014-01-08T00:00:00Z",
     "_end_at": "2014-01-09T00:00:00Z"},
    {"_id": "r04", "_timestamp": "2014-01-21T23:59:59Z", "channel": "web", "region": "north",
     "count": 2, "paid": False, "tag": None},
    {"_id": "r05", "_timestamp": "2014-02-03T00:00:00Z", "channel": "phone", "region": "south",
     "count": 10, "score": 2.5, "tag": "gamma"},
    {"_id": "r06", "_timestamp": "2014-02-14T12:00:00+02:00", "channel": "app", "region": None,
     "count": 4, "score": 0.25, "paid": True, "tag": "beta"},
    {"_id": "r07", "_timestamp": "2014-01-31T12:00:00Z", "region": "north", "count": 5,
     "tag": "alpha"},
    {"_id": "r08", "channel": "web", "region": "east", "count": 6, "tag": "delta"},
    {"_id": "r09", "_timestamp": "2013-12-31T23:00:00Z", "channel": "web", "region": "south",
     "count": 8, "score": 1.5, "paid": True, "tag": "alpha", "path": "/foo/bar"},
    {"_id": "r10", "_timestamp": "2014-01-13T00:00:00Z", "channel": "app", "region": "south",
     "count": 9, "score": 0.75, "paid": False, "path": "/foo/baz",
     "_start_at": "2014-01-01T00:00:00+05:00"},
    {"_id": "r11", "_timestamp": "2014-01-07T08:00:00Z", "channel": "web", "region": "north",
     "count": "3", "tag": "epsilon", "path": "/bar"},
    {"_id": "r12", "_timestamp": "2014-01-09T08:00:00Z", "region": "west", "paid": 1, "count": 0},
    {"_id": "r13", "_timestamp": "2014-01-16T08:00:00Z", "region": "west", "paid": 0, "count": 0},
]  # fmt: skip

JANUARY_WEEKS = "start_at=2014-01-06T00:00:00Z&end_at=2014-01-27T00:00:00Z"
QUERIES = [
    "",
    "filter_by=channel:web&sort_by=count:descending&limit=4",
    "filter_by=count:3",
    "filter_by=paid:true",
    "filter_by_prefix=path:/foo",
    "start_at=2014-01-06T10:00:00Z&end_at=2014-01-13T00:00:00Z&inclusive=true",
    "sort_by=tag:ascending",
    "sort_by=_timestamp:descending&limit=4",
    "sort_by=_start_at:ascending&filter_by=channel:app",
    "filter_by=_id:r03",
    "group_by=channel",
    "group_by=channel&collect=score:sum&collect=score:mean&collect=tag:count&collect=tag",
    "group_by=channel&group_by=region&sort_by=_count:descending&limit=3",
    "group_by=region&collect=paid:set&collect=paid:count&sort_by=paid:count:ascending",
    "group_by=tag&filter_by=channel:web&start_at=2014-01-01T00:00:00Z&end_at=2014-02-01T00:00:00Z",
    f"period=week&{JANUARY_WEEKS}&collect=score:sum&collect=score:mean",
    "period=day&start_at=2014-01-06T00:00:00Z&end_at=2014-01-09T00:00:00Z&collect=tag",
    "period=month&start_at=2013-12-01T00:00:00Z&end_at=2014-03-01T00:00:00Z&collect=count:count",
    "period=quarter&start_at=2013-10-01T00:00:00Z&end_at=2014-07-01T00:00:00Z",
    "period=hour&start_at=2014-01-06T08:00:00Z&end_at=2014-01-06T12:00:00Z",
    f"period=week&group_by=channel&{JANUARY_WEEKS}&collect=score:sum&collect=tag:set",
    f"period=week&group_by=region&{JANUARY_WEEKS}&sort_by=_group_count:descending&limit=2",
    f"period=week&group_by=channel&{JANUARY_WEEKS}&flatten=true&collect=score:mean",
    f"period=week&group_by=paid&{JANUARY_WEEKS}&collect=count:sum",
    "group_by=region&collect=paid:set&filter_by=region:west",
    "period=week&duration=3&start_at=2013-12-01T00:00:00Z",
    "period=month&duration=2",
    "period=day&duration=2&end_at=2014-01-10T00:00:00Z&group_by=channel",
    "period=week&duration=2&group_by=channel&filter_by=region:south&flatten=true",
]


def seed(engine) -> None:
    config, _ = Registry(engine).create({"name": "agree"})
    engine.records.save("agree", prepare_records(RECORDS, config, NOW))


def answer(engine, query_string: str) -> bytes:
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    query = parse_query(MultiDict(parse_qsl(query_string)))
    try:
        rows = reading.execute(engine, "agree", query, now=NOW)
    except InvalidQuery as error:
        return f"400 {error.message}".encode()
    # JSON objects are unordered (PostgreSQL's JSONB does not keep key order)
    return orjson.dumps(rows, option=orjson.OPT_SORT_KEYS)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Answers of a separate SQLite database holding the same records."""
    engine = SQLiteEngine(f"sqlite:///{tmp_path_factory.mktemp('reference')}/reference.db")
    seed(engine)
    answers = {query: answer(engine, query) for query in QUERIES}
    engine.close()
    return answers


def test_reference_answers_are_not_trivial(reference):
    assert all(not answer.startswith(b"400") for answer in reference.values())
    assert len({answer for answer in reference.values()}) == len(QUERIES)


@pytest.mark.parametrize("query", QUERIES, ids=lambda query: query or "raw")
def test_engines_agree(engine, reference, query):
    seed(engine)
    assert answer(engine, query) == reference[query]


def test_engines_agree_on_invalid_collects(engine):
    seed(engine)
    assert answer(engine, "group_by=region&collect=count:sum") == b"400 invalid collect function"
    assert answer(engine, "group_by=region&collect=tag:mean") == b"400 invalid collect function"
    assert answer(engine, "group_by=region&collect=paid:sum") == b"400 invalid collect function"
