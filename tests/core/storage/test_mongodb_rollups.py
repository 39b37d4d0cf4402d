"""MongoDB-only behaviour of the data-set state and rollups: where they live,
their index, what a row holds, the chunked build with writes in between,
counters beyond 64 bits, and ``backdrop migrate`` trimming a rolled-up data
set. The answers themselves are checked on every engine by
test_contract_rollups.py.

Runs on mongomock (an in-process stand-in, behind the recording proxy that
checks every filter and pipeline against MongoDB 4.4) unless
``BACKDROP_TEST_MONGODB_URL`` names a real mongod.
"""

from __future__ import annotations

import os
import random
import secrets
from collections import defaultdict
from datetime import UTC, datetime
from types import SimpleNamespace

import mongomock
import pymongo
import pytest
from bson.int64 import Int64
from pymongo.errors import BulkWriteError, OperationFailure

from backdrop.core import rollups
from backdrop.core.periods import PERIODS
from backdrop.core.query import Collect, Filter, Where
from backdrop.core.rollups import RollupSpec
from backdrop.core.storage.mongodb import MongoEngine, rollup_store
from backdrop.core.storage.mongodb.rollups import ROLLUPS, STATE, Upkeep
from tests.core.storage.contract import record
from tests.mongodb_recording import RecordingClient

REAL_SERVER = os.environ.get("BACKDROP_TEST_MONGODB_URL")
NAME = "rolled"
SPEC = RollupSpec(groups=((), ("region",), ("channel",)), measures=("visits",))
ALL = (Collect("visits", "sum"), Collect("visits", "count"), Collect("visits", "mean"))


@pytest.fixture
def mongo():
    """The engine plus its raw database, to look inside."""
    name = f"backdrop_test_{secrets.token_hex(6)}"
    if REAL_SERVER is None:
        client = RecordingClient(mongomock.MongoClient(tz_aware=True))
        engine = MongoEngine(f"mongodb://localhost:27017/{name}", client=client)
    else:
        client = pymongo.MongoClient(REAL_SERVER, tz_aware=True)
        engine = MongoEngine(REAL_SERVER.rsplit("/", 1)[0] + f"/{name}")
    engine.records.create(NAME)
    yield SimpleNamespace(engine=engine, store=engine.records, db=client[name], client=client)
    engine.close()
    if REAL_SERVER is None:
        assert client.problems() == []
    else:
        client.drop_database(name)
        client.close()


EVERYTHING = Where()


def _answers(store, where=EVERYTHING, group_by=("region",), period=None, collects=ALL):
    """(from the rollup, from the records, whether the rollup answered)."""
    state = store.state(NAME)
    used = state.ready and (
        rollups.covering_group(state.rollup, where, group_by, period, collects) is not None
    )
    answer = rollups.aggregate(store, NAME, where, group_by, period, collects, state)
    records = store.aggregate(NAME, where, group_by, period, collects)

    def key(row):
        return sorted((k, repr(v)) for k, v in row.items())

    return sorted(answer, key=key), sorted(records, key=key), used


def test_state_and_rows_live_in_their_own_collections_with_an_index(mongo):
    mongo.store.save(NAME, [record("a", "2024-01-03T10:00:00", region="north", visits=2)])
    mongo.store.set_rollup(NAME, SPEC)
    assert mongo.store.build_rollup(NAME) is True

    state = mongo.db[STATE].find_one({"_id": NAME})
    assert state["rollup"] == SPEC.document()
    assert state["ready"] is True
    assert state["version"] == mongo.store.state(NAME).version
    indexes = [[k for k, _ in i["key"]] for i in mongo.db[ROLLUPS].index_information().values()]
    assert ["ds", "g", "b"] in indexes
    # Three groups, each with an ALL_TIME row and a day row.
    assert mongo.db[ROLLUPS].count_documents({"ds": NAME}) == 6


def test_a_row_keeps_the_values_json_types_and_its_period_starts(mongo):
    mongo.store.set_rollup(NAME, SPEC)
    mongo.store.build_rollup(NAME)
    mongo.store.save(
        NAME,
        [
            record("a", "2024-01-03T10:00:00", region=True, channel=["x", 1], visits=2),
            record("b", None, region=1, channel={"k": None}, visits=2.5),
        ],
    )

    rows = list(mongo.db[ROLLUPS].find({"ds": NAME, "g": 1}))
    kept = sorted((repr(r["d"]["region"]), str(r["b"])) for r in rows)
    assert kept == [("1", "ALL_TIME"), ("True", "2024-01-03 00:00:00+00:00"), ("True", "ALL_TIME")]
    day = next(r for r in rows if r["b"] != "ALL_TIME")
    assert day["_week_start_at"] == datetime(2024, 1, 1, tzinfo=UTC)
    assert day["_year_start_at"] == datetime(2024, 1, 1, tzinfo=UTC)
    assert "_hour_start_at" not in day  # coarser than the day grain only
    assert day["c"] == {"_count": 1, "visits:present": 1, "visits:n": 1, "visits:isum": 2}
    channels = {repr(r["d"]["channel"]) for r in mongo.db[ROLLUPS].find({"ds": NAME, "g": 2})}
    assert channels == {"['x', 1]", "{'k': None}"}


def test_rows_whose_records_all_went_are_deleted(mongo):
    mongo.store.set_rollup(NAME, SPEC)
    mongo.store.build_rollup(NAME)
    mongo.store.save(NAME, [record("a", "2024-01-03T10:00:00", region="north", visits=2)])
    mongo.store.save(NAME, [record("b", "2024-01-04T10:00:00", region="south", visits=2)])

    assert mongo.store.delete(NAME, "b") is True
    assert mongo.db[ROLLUPS].count_documents({"ds": NAME, "d.region": "south"}) == 0
    mongo.store.save(NAME, [record("a", "2024-01-05T10:00:00", region="east", visits=2)])
    assert mongo.db[ROLLUPS].count_documents({"ds": NAME, "d.region": "north"}) == 0
    assert mongo.db[ROLLUPS].count_documents({"ds": NAME, "d.region": "east"}) == 2


def test_state_is_one_read_of_one_document(mongo):
    if REAL_SERVER is not None:
        pytest.skip("counts the calls the recording proxy over mongomock sees")
    mongo.store.set_rollup(NAME, SPEC)
    before = len(mongo.client.calls)
    mongo.store.state(NAME)
    calls = mongo.client.calls[before:]
    assert [(c.namespace.split(".")[-1], c.method) for c in calls] == [(STATE, "find_one")]


def test_writes_between_the_chunks_of_a_build_are_counted(mongo, monkeypatch):
    """Writers keep the rows of records the walk has passed; the walk counts the rest."""
    monkeypatch.setattr(rollup_store, "BUILD_CHUNK", 2)
    store = mongo.store
    store.save(
        NAME, [record(f"r{i}", "2024-01-03T10:00:00", region="north", visits=i) for i in range(7)]
    )
    store.set_rollup(NAME, SPEC)
    count_chunk = store._count_chunk
    writes = iter(
        [
            lambda: store.save(
                NAME, [record("r0", "2024-01-04T00:00:00", region="south", visits=10)]
            ),
            lambda: store.delete(NAME, "r5"),
            lambda: store.save(
                NAME, [record("r1", None, region="east"), record("r6", None, region="west")]
            ),
            lambda: store.save(
                NAME, [record("a", "2024-02-01T00:00:00", region="north", visits=1)]
            ),
        ]
    )

    def chunk_then_write(data_set, session):
        done = count_chunk(data_set, session)
        next(writes, lambda: None)()
        return done

    monkeypatch.setattr(store, "_count_chunk", chunk_then_write)
    assert store.build_rollup(NAME) is True

    for group_by, period in [(("region",), None), ((), "day"), (("channel",), "week")]:
        from_rollup, from_records, used = _answers(store, group_by=group_by, period=period)
        assert from_rollup == from_records
        assert used


def test_a_build_that_died_midway_resumes_where_it_stopped(mongo, monkeypatch):
    monkeypatch.setattr(rollup_store, "BUILD_CHUNK", 2)
    store = mongo.store
    store.save(NAME, [record(f"r{i}", None, region=f"x{i % 2}", visits=i) for i in range(5)])
    store.set_rollup(NAME, SPEC)
    count_chunk = store._count_chunk
    chunks = []

    def dying_after_one(data_set, session):
        if chunks:
            raise RuntimeError("the process died")
        chunks.append(count_chunk(data_set, session))
        return chunks[-1]

    monkeypatch.setattr(store, "_count_chunk", dying_after_one)
    with pytest.raises(RuntimeError):
        store.build_rollup(NAME)
    assert mongo.db[STATE].find_one({"_id": NAME})["built_to"] == "r1"
    store.save(NAME, [record("r0", None, region="x9", visits=100)])  # counted part: kept

    monkeypatch.setattr(store, "_count_chunk", count_chunk)
    assert store.build_rollup(NAME) is True
    from_rollup, from_records, used = _answers(store)
    assert (from_rollup, used) == (from_records, True)


def test_a_new_spec_during_a_build_stops_it(mongo, monkeypatch):
    monkeypatch.setattr(rollup_store, "BUILD_CHUNK", 1)
    store = mongo.store
    store.save(NAME, [record(f"r{i}", None, region="north", visits=i) for i in range(3)])
    store.set_rollup(NAME, SPEC)
    count_chunk = store._count_chunk

    def chunk_then_respec(data_set, session):
        done = count_chunk(data_set, session)
        store.set_rollup(NAME, RollupSpec(groups=((),), measures=()))
        return done

    monkeypatch.setattr(store, "_count_chunk", chunk_then_respec)
    assert store.build_rollup(NAME) is False
    assert store.state(NAME).ready is False
    assert mongo.db[ROLLUPS].count_documents({"ds": NAME}) == 0


INC_REFUSED = "Failed to apply $inc operations to current value ((NumberLong)9223372036854775807)"
REFUSALS = [
    OperationFailure(INC_REFUSED, 2),
    BulkWriteError({"writeErrors": [{"index": 0, "code": 2, "errmsg": INC_REFUSED}]}),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=["alone", "in a bulk write"])
def test_a_counter_the_server_cannot_hold_leaves_the_rollup_unbuilt_not_the_write_failed(
    mongo, monkeypatch, refusal
):
    """A server refuses ``$inc`` past 64 bits; mongomock's Python ints never overflow,
    so the refusal is played by a stand-in for the first application."""
    store = mongo.store
    store.set_rollup(NAME, SPEC)
    store.build_rollup(NAME)
    store.save(NAME, [record("a", "2024-01-03T10:00:00", region="north", visits=2**62)])
    apply = Upkeep.apply
    refusals = iter([refusal])

    def refusing(self, spec):
        refusal = next(refusals, None)
        if refusal is not None:
            raise refusal
        apply(self, spec)

    monkeypatch.setattr(Upkeep, "apply", refusing)
    store.save(NAME, [record("b", "2024-01-03T11:00:00", region="north", visits=2**62)])

    assert store.get(NAME, "b") is not None
    state = store.state(NAME)
    assert (state.rollup, state.ready) == (SPEC, False)
    assert "64 bits" in mongo.db[STATE].find_one({"_id": NAME})["reason"]
    from_rollup, from_records, used = _answers(store)
    assert (from_rollup, used) == (from_records, False)
    assert from_records[0]["visits:sum"] == 2**63


def test_other_write_failures_still_fail(mongo, monkeypatch):
    store = mongo.store
    store.set_rollup(NAME, SPEC)
    store.build_rollup(NAME)

    def failing(self, spec):
        raise OperationFailure("something else", 8000)

    monkeypatch.setattr(Upkeep, "apply", failing)
    with pytest.raises(OperationFailure):
        store.save(NAME, [record("a", None, region="north", visits=1)])
    assert store.state(NAME).ready is True


def test_migrate_trimming_a_capped_data_set_takes_the_trimmed_records_off(mongo):
    store = mongo.store
    store.set_rollup(NAME, SPEC)
    store.build_rollup(NAME)
    old = datetime(2024, 1, 1, tzinfo=UTC)
    new = datetime(2024, 6, 1, tzinfo=UTC)
    store.save(
        NAME, [record(f"o{i}", None, updated_at=old, region="old", visits=1) for i in range(5)]
    )
    store.save(NAME, [record("n", None, updated_at=new, region="new", visits=1)])
    version = store.state(NAME).version

    mongo.engine.migrate([(NAME, 200)], lambda line: None)

    assert store.count(NAME) < 6
    assert store.state(NAME).version > version
    from_rollup, from_records, used = _answers(store)
    assert (from_rollup, used) == (from_records, True)


def test_filters_on_rows_match_as_on_records(mongo):
    store = mongo.store
    store.set_rollup(NAME, SPEC)
    store.build_rollup(NAME)
    store.save(
        NAME,
        [
            record("a", None, region="1", visits=1),
            record("b", None, region=1, visits=2),
            record("c", None, region=True, visits=4),
            record("d", None, region=["1", "x"], visits=8),
            record("e", None, region=1.0, visits=16),
        ],
    )
    for value in ["1", "true", "x", "1.0"]:
        where = Where(filters=(Filter("region", value),))
        from_rollup, from_records, used = _answers(store, where=where, group_by=())
        assert (from_rollup, used) == (from_records, True), value


VALUES = [None, True, False, 0, 1, -3, 2**40, 1.5, -0.25, "1", "web", ["x", 1], {"k": None}, {}]


@pytest.mark.parametrize("seed", range(5))
def test_the_write_path_counts_as_the_reference_does(seed):
    """``rollups.deltas`` counts as record by record would; every kind of value, missing
    fields, records without ``_timestamp``, both signs and both grains."""
    rng = random.Random(seed)
    spec = RollupSpec(
        groups=((), ("a",), ("b", "a"), ("c",)),
        measures=("m", "n"),
        grain=rng.choice(["day", "hour"]),
    )
    records = []
    for i in range(300):
        fields = {f: rng.choice(VALUES) for f in "abcmn" if rng.random() < 0.8}
        if fields.get("m") == 2**40:
            fields["m"] = Int64(2**40)  # as pymongo reads a stored 64-bit integer back
        moment = f"2024-0{rng.randint(1, 3)}-1{rng.randint(0, 9)}T{rng.randint(10, 23)}:30:00"
        records.append(record(f"r{i}", moment if rng.random() < 0.8 else None, **fields))
    for sign in (1, -1):
        assert rollups.deltas(spec, records, sign) == _per_record(spec, records, sign)


def _measure_counters(value, present):
    if not present:
        return (0, 0, 0, 0.0, 0, 0)
    if value is None:
        return (1, 0, 0, 0.0, 0, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return (1, 0, 0, 0.0, 0, 1)
    if isinstance(value, int):
        return (1, 1, value, 0.0, 0, 0)
    return (1, 1, 0, value, 1, 0)


def _per_record(spec, records, sign):
    """The counters record by record and group by group: the plain reading of
    ``rollups.MEASURE_COUNTERS`` that the batched ``rollups.deltas`` must equal."""
    out = defaultdict(lambda: [0] * (1 + len(spec.measures) * len(rollups.MEASURE_COUNTERS)))
    grain_key = PERIODS[spec.grain].key
    for stored in records:
        contribution = [sign]
        for measure in spec.measures:
            counters = _measure_counters(stored.get(measure), measure in stored)
            contribution.extend(sign * c for c in counters)
        buckets = [rollups.ALL_TIME]
        if stored.get(grain_key) is not None:
            buckets.append(stored[grain_key])
        for index, group in enumerate(spec.groups):
            values = tuple(rollups.dimension_key(stored.get(field)) for field in group)
            for bucket in buckets:
                into = out[(index, bucket, values)]
                for position, change in enumerate(contribution):
                    into[position] += change
    return dict(out)
