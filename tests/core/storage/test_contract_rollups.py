"""Storage contract, part 6: the data set's state (version, rollup) and
rollup answers, on every engine.

``rollups.aggregate`` must answer exactly what ``RecordStore.aggregate``
answers, whether a covered query reads the rollup rows or the records: after
a build, after writes maintained in the write transaction, and after every
step of a seeded sequence of saves, patches, deletes, empties, replaces and
capped saves.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backdrop.core import rollups
from backdrop.core.query import COLLECT_METHODS, Collect, Filter, PrefixFilter, Where
from backdrop.core.rollups import DataSetState, RollupSpec
from backdrop.core.storage.base import BatchSaving
from backdrop.errors import InvalidQuery
from tests.core.storage.contract import UPDATED, at, record

NAME = "rolled"
SPEC = RollupSpec(
    groups=((), ("region",), ("channel",), ("region", "channel"), ("kind",), ("level",)),
    measures=("visits", "rate", "mixed", "text"),
)
HOUR_SPEC = RollupSpec(groups=((), ("region",)), measures=("visits",), grain="hour")

# 2024-01-01 is a Monday. Floats are multiples of 1/4, so sums are exact in
# any order (the rollup adds and subtracts them in another order).
RECORDS = [
    record("a", "2024-01-01T10:00:00", region="north", channel="web", visits=3, rate=1.5),
    record("b", "2024-01-01T11:30:00", region="north", channel="phone", visits=4, rate=2.25),
    record("c", "2024-01-07T23:59:59", region="south", channel="web", visits=5, rate=None),
    record("d", "2024-01-08T00:00:00", region="south", channel=1, visits=6.5, kind="1"),
    record("e", "2024-01-09T00:00:00", region=None, channel=True, visits=None, kind=1),
    record("f", "2024-01-10T08:00:00", channel="1", visits=8, kind=True, level=1),
    record("g", None, region="north", channel="web", visits=100, kind=False, level=1.0),
    record("h", "2024-02-29T12:00:00", region="east", channel="web", kind=0, level="1"),
    record("i", "2024-03-31T23:00:00", region="north", channel="web", visits=-2, kind=["x"]),
    record("j", "2024-04-01T00:00:00", region="west", channel="phone", visits=1, kind={"a": 1}),
    record("k", "2024-12-31T23:59:59", region="north", channel="phone", rate=0.25, level=2),
    record("l", "2025-01-01T00:00:00", region="north", channel="web", visits=7, level="2"),
    record("m", "2024-05-05T05:05:05", region="south", channel="web", level=True, kind="true"),
]
BAD = [
    record("x", "2024-01-02T00:00:00", region="bad", channel="web", mixed=True, text="t"),
    record("y", "2024-01-03T00:00:00", region="north", channel="web", mixed=2, text=None),
]

SUMS = (Collect("visits", "sum"), Collect("rate", "sum"))
ALL = (*SUMS, Collect("visits", "count"), Collect("visits", "mean"), Collect("rate", "mean"))
YEAR = Where(start=at("2024-01-01T00:00:00"), end=at("2025-01-01T00:00:00"))
JAN_FEB = Where(start=at("2024-01-02T00:00:00"), end=at("2024-02-29T00:00:00"))
UNALIGNED = Where(start=at("2024-01-01T10:30:00"), end=at("2024-03-01T00:00:00"))


EVERYTHING = Where()


def _f(field: str, value: str, where: Where = EVERYTHING) -> Where:
    return Where(filters=(Filter(field, value),), start=where.start, end=where.end)


# (where, group_by, period, collects, answered from the rollup once built)
SHAPES = [
    (Where(), (), None, ALL, True),
    (Where(), ("region",), None, ALL, True),
    (Where(), ("channel",), None, SUMS, True),
    (Where(), ("region", "channel"), None, ALL, True),
    (Where(), ("channel", "region"), None, (Collect("visits", "mean"),), True),
    (Where(), ("kind",), None, (Collect("visits", "count"),), True),
    (Where(), ("level",), None, (), True),
    (YEAR, ("region",), None, ALL, True),
    (JAN_FEB, ("channel",), None, SUMS, True),
    (JAN_FEB, (), None, ALL, True),
    (YEAR, (), "day", ALL, True),
    (YEAR, ("channel",), "week", SUMS, True),
    (JAN_FEB, ("region",), "week", ALL, True),
    (Where(), ("region",), "month", ALL, True),
    (Where(), (), "quarter", (Collect("rate", "count"),), True),
    (Where(), ("channel",), "year", SUMS, True),
    (Where(end=at("2024-03-01T00:00:00")), (), "month", ALL, True),
    (Where(start=at("2024-03-01T00:00:00")), ("region",), None, ALL, True),
    (_f("region", "north"), ("channel",), None, ALL, True),
    (_f("region", "north", YEAR), ("channel",), "week", SUMS, True),
    (_f("channel", "1"), (), None, ALL, True),
    (_f("channel", "true"), ("channel",), None, ALL, True),
    (_f("channel", "web"), (), "month", ALL, True),
    (_f("kind", "1"), (), None, ALL, True),
    (_f("kind", "true"), (), None, ALL, True),
    (_f("kind", "false"), (), None, ALL, True),
    (_f("kind", "0"), ("kind",), None, ALL, True),
    (_f("level", "1"), (), None, ALL, True),
    (_f("level", "1.0"), (), None, ALL, True),
    (_f("level", "2"), (), "year", ALL, True),
    (_f("level", "nothing"), (), None, ALL, True),
    (Where(filters=(Filter("region", "north"), Filter("channel", "web"))), (), None, ALL, True),
    (Where(prefixes=(PrefixFilter("region", "no"),)), ("region",), None, ALL, True),
    (Where(prefixes=(PrefixFilter("channel", "1"),)), (), None, ALL, True),
    (Where(prefixes=(PrefixFilter("kind", "tr"),)), (), None, ALL, True),
    (Where(prefixes=(PrefixFilter("level", ""),)), (), "month", ALL, True),
    # Not covered: the records answer (and must still be right).
    (UNALIGNED, ("region",), None, ALL, False),
    (Where(end=at("2024-03-01T00:00:00"), end_inclusive=True), (), None, ALL, False),
    (Where(), ("region", "kind"), None, ALL, False),
    (Where(), ("region",), "hour", ALL, False),
    (Where(), ("region",), None, (Collect("visits", "set"),), False),
    (Where(), ("region",), None, (Collect("other", "sum"),), False),
]


class Spy:
    """The store, noting whether an answer came from the rollup."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.used_rollup = False

    def state(self, data_set: str) -> DataSetState:
        return self.store.state(data_set)

    def rollup_rows(self, *args: Any) -> list[dict[str, Any]]:
        self.used_rollup = True
        return self.store.rollup_rows(*args)

    def aggregate(self, *args: Any) -> list[dict[str, Any]]:
        return self.store.aggregate(*args)


def _typed(value: Any) -> Any:
    """The value with every leaf tagged by its type, so 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return sorted((k, _typed(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, datetime):
        return ("datetime", value.astimezone(UTC).isoformat())
    return (type(value).__name__, value)


def _finished(rows: list[dict[str, Any]], collects: tuple[Collect, ...]) -> list[Any]:
    """Rows as the read API sees them (collects finished), typed, in one order."""
    out = []
    for row in rows:
        done = dict(row)
        for collect in collects:
            done[collect.key] = COLLECT_METHODS[collect.method].finish(row[collect.key])
        out.append(_typed(done))
    return sorted(out, key=repr)


def _both(store: Any, where: Where, group_by: tuple[str, ...], period: str | None, collects):
    """(rollup router answer, records answer, whether the rollup answered);
    an ``InvalidQuery`` counts as an answer (its message)."""
    spy = Spy(store)
    answers = []
    for call in (rollups.aggregate, lambda s, *a: s.aggregate(*a)):
        try:
            answers.append(_finished(call(spy, NAME, where, group_by, period, collects), collects))
        except InvalidQuery as error:
            answers.append(("InvalidQuery", str(error)))
    return answers[0], answers[1], spy.used_rollup


def _roll(store: Any, spec: RollupSpec = SPEC) -> None:
    store.set_rollup(NAME, spec)
    assert store.build_rollup(NAME) is True
    assert store.state(NAME).ready


@pytest.fixture
def store(engine):
    engine.records.create(NAME)
    return engine.records


# State and version


def test_an_unknown_data_set_has_the_empty_state(engine):
    assert engine.records.state("never-made") == DataSetState()


def test_the_version_increases_with_every_kind_of_write(store):
    versions = [store.state(NAME).version]

    def step() -> None:
        versions.append(store.state(NAME).version)
        assert versions[-1] > versions[-2], f"step {len(versions) - 1} kept the version"

    store.save(NAME, RECORDS[:3])
    step()
    store.save(NAME, RECORDS[:1])  # a patch of a stored id
    step()
    store.save(NAME, RECORDS[3:5], replace=True)
    step()
    store.save(NAME, RECORDS, capped_size=1)
    step()
    if isinstance(store, BatchSaving):
        store.save_batches(NAME, iter([RECORDS[:2], RECORDS[2:4]]))
        step()
        store.save_batches(NAME, iter([RECORDS]), capped_size=1)
        step()
    store.save(NAME, RECORDS)
    assert store.delete(NAME, "a") is True
    step()
    store.empty(NAME)
    step()
    store.set_rollup(NAME, SPEC)
    step()
    store.build_rollup(NAME)
    step()
    store.save(NAME, RECORDS)  # maintained by a ready rollup
    step()
    store.delete(NAME, "b")
    step()
    store.drop(NAME)
    step()
    store.create(NAME)
    step()


def test_the_version_never_repeats_across_drop_and_create(store):
    seen = [store.state(NAME).version]
    for _ in range(3):
        store.save(NAME, RECORDS[:2])
        seen.append(store.state(NAME).version)
        store.drop(NAME)
        seen.append(store.state(NAME).version)
        store.create(NAME)
        seen.append(store.state(NAME).version)
    assert seen == sorted(set(seen))


def test_versions_are_kept_per_data_set(store):
    store.create("other")
    before = store.state("other").version
    store.save(NAME, RECORDS)
    store.empty(NAME)
    assert store.state("other").version == before


def test_set_rollup_keeps_the_spec_not_ready_until_built(store):
    store.save(NAME, RECORDS)
    assert store.build_rollup(NAME) is False  # none set
    store.set_rollup(NAME, SPEC)
    assert store.state(NAME).rollup == SPEC
    assert not store.state(NAME).ready
    assert store.build_rollup(NAME) is True
    assert store.state(NAME) == DataSetState(store.state(NAME).version, SPEC, True)


def test_the_same_spec_again_changes_nothing_another_needs_a_build(store):
    _roll(store)
    store.set_rollup(NAME, SPEC)
    assert store.state(NAME).ready
    store.set_rollup(NAME, HOUR_SPEC)
    assert store.state(NAME).rollup == HOUR_SPEC
    assert not store.state(NAME).ready
    store.set_rollup(NAME, None)
    assert store.state(NAME).rollup is None
    assert not store.state(NAME).ready
    assert store.build_rollup(NAME) is False


def test_a_rollup_is_kept_and_ready_across_writes(store):
    _roll(store)
    store.save(NAME, RECORDS)
    store.delete(NAME, "a")
    store.empty(NAME)
    store.save(NAME, RECORDS, replace=True)
    assert store.state(NAME).rollup == SPEC
    assert store.state(NAME).ready


# The same answers from the rollup as from the records


def _built_after_save(store: Any) -> None:
    store.save(NAME, RECORDS + BAD)
    _roll(store)


def _maintained(store: Any) -> None:
    _roll(store)
    store.save(NAME, [record("a", "2023-05-05T00:00:00", region="gone", visits=99, text=1)])
    store.save(NAME, RECORDS[:7] + BAD)
    store.save(NAME, [record("n", "2024-01-01T00:00:00", region="north", visits=1000)])
    store.save(NAME, RECORDS[6:])  # "g" again: a patch to the same values
    assert store.delete(NAME, "n") is True


@pytest.mark.parametrize("prepare", [_built_after_save, _maintained])
@pytest.mark.parametrize(("where", "group_by", "period", "collects", "covered"), SHAPES)
def test_rollup_answers_equal_record_answers(
    store, prepare, where, group_by, period, collects, covered
):
    prepare(store)
    from_rollup, from_records, used = _both(store, where, group_by, period, collects)
    assert from_rollup == from_records
    assert used is covered
    if covered and where != _f("level", "nothing"):
        assert from_records, "the shape matches something"


@pytest.mark.parametrize("prepare", [_built_after_save, _maintained])
@pytest.mark.parametrize(
    ("where", "collects", "invalid"),
    [
        (Where(), (Collect("mixed", "sum"),), True),
        (Where(), (Collect("mixed", "mean"),), True),
        (Where(), (Collect("text", "sum"),), True),
        (Where(), (Collect("text", "count"), Collect("mixed", "count")), False),
        (_f("region", "north"), (Collect("mixed", "sum"), Collect("text", "mean")), False),
        (_f("region", "bad"), (Collect("visits", "sum"), Collect("text", "mean")), True),
        (Where(start=at("2024-01-03T00:00:00")), (Collect("mixed", "sum"),), False),
    ],
)
def test_a_sum_over_a_value_that_is_no_number_is_invalid_on_both_paths(
    store, prepare, where, collects, invalid
):
    prepare(store)
    for group_by, period in [((), None), (("region",), None), ((), "week")]:
        from_rollup, from_records, used = _both(store, where, group_by, period, collects)
        assert from_rollup == from_records
        assert used
        assert (from_records == ("InvalidQuery", "invalid collect function")) is invalid


def test_an_hour_grain_answers_hours(store):
    store.save(NAME, RECORDS)
    _roll(store, HOUR_SPEC)
    hours = Where(start=at("2024-01-01T10:00:00"), end=at("2024-01-08T01:00:00"))
    for where, period in [(hours, "hour"), (hours, "day"), (Where(), "hour"), (YEAR, "week")]:
        collects = (Collect("visits", "sum"), Collect("visits", "mean"))
        from_rollup, from_records, used = _both(store, where, ("region",), period, collects)
        assert from_rollup == from_records
        assert used


def test_a_rollup_set_but_not_built_is_not_used(store):
    store.save(NAME, RECORDS)
    store.set_rollup(NAME, SPEC)
    store.save(NAME, [record("z", "2024-01-01T00:00:00", region="north", visits=1)])
    store.delete(NAME, "a")
    for where, group_by, period, collects, _ in SHAPES:
        from_rollup, from_records, used = _both(store, where, group_by, period, collects)
        assert from_rollup == from_records
        assert not used
    store.build_rollup(NAME)
    from_rollup, from_records, used = _both(store, Where(), ("region",), None, ALL)
    assert (from_rollup, used) == (from_records, True)


def test_sums_beyond_64_bits_are_answered_right(store):
    _roll(store)
    big = [record(f"big{i}", "2024-01-01T00:00:00", region="north", visits=2**62) for i in range(3)]
    store.save(NAME, big)
    store.save(NAME, [record("small", "2024-01-02T00:00:00", region="north", visits=1)])
    for group_by, period in [((), None), (("region",), "week"), ((), "day")]:
        from_rollup, from_records, _ = _both(store, Where(), group_by, period, ALL)
        assert from_rollup == from_records
    store.empty(NAME)
    store.build_rollup(NAME)
    store.save(NAME, RECORDS)
    from_rollup, from_records, _ = _both(store, Where(), ("region",), None, ALL)
    assert from_rollup == from_records


# A seeded sequence of writes, checking after every step

REGIONS = ["north", "south", "east", None]
CHANNELS = ["web", "phone", 1, True, "1"]
START = datetime(2024, 1, 1, tzinfo=UTC)
CHECKS = [
    (Where(), (), None, ALL),
    (Where(), ("region",), None, ALL),
    (Where(), ("region", "channel"), None, SUMS),
    (YEAR, ("channel",), "week", SUMS),
    (JAN_FEB, ("region",), None, ALL),
    (Where(), (), "month", ALL),
    (_f("channel", "1"), ("region",), "day", ALL),
    (_f("region", "north", YEAR), (), "week", ALL),
    (Where(prefixes=(PrefixFilter("region", "s"),)), ("channel",), None, ALL),
]


def _random_record(rng: random.Random, updated: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if rng.random() < 0.9:
        fields["region"] = rng.choice(REGIONS)
    if rng.random() < 0.9:
        fields["channel"] = rng.choice(CHANNELS)
    if rng.random() < 0.85:
        fields["visits"] = rng.choice([rng.randint(-5, 50), rng.randint(0, 40) / 4, None])
    if rng.random() < 0.5:
        fields["rate"] = rng.randint(0, 20) / 4
    timestamp = None
    if rng.random() < 0.85:
        moment = START + timedelta(minutes=rng.randint(0, 400 * 24 * 60))
        timestamp = moment.isoformat()
    return record(f"r{rng.randint(0, 40)}", timestamp, updated_at=updated, **fields)


def _step(rng: random.Random, store: Any, clock: list[datetime]) -> str:
    clock[0] += timedelta(seconds=1)
    batch = [_random_record(rng, clock[0]) for _ in range(rng.randint(1, 8))]
    batch = list({r["_id"]: r for r in batch}.values())
    kind = rng.choices(
        ["save", "replace", "capped", "batches", "delete", "empty", "rebuild"],
        weights=[10, 1, 2, 2, 4, 1, 1],
    )[0]
    if kind == "save":
        store.save(NAME, batch)
    elif kind == "replace":
        store.save(NAME, batch, replace=True)
    elif kind == "capped":
        store.save(NAME, batch, capped_size=rng.randint(500, 4000))
    elif kind == "batches" and isinstance(store, BatchSaving):
        half = len(batch) // 2
        store.save_batches(NAME, iter([batch[:half], batch[half:]]), rng.choice([0, 3000]))
    elif kind == "delete":
        store.delete(NAME, f"r{rng.randint(0, 40)}")
    elif kind == "empty":
        store.empty(NAME)
    elif kind == "rebuild":
        store.build_rollup(NAME)
    else:
        store.save(NAME, batch)
    return kind


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_seeded_sequence_of_writes_keeps_rollup_answers_equal(store, seed):
    rng = random.Random(seed)
    clock = [UPDATED]
    _roll(store)
    for number in range(40):
        kind = _step(rng, store, clock)
        assert store.state(NAME).ready, f"step {number} ({kind}) left the rollup not ready"
        for where, group_by, period, collects in CHECKS:
            from_rollup, from_records, used = _both(store, where, group_by, period, collects)
            assert from_rollup == from_records, f"step {number} ({kind}), {group_by} {period}"
            assert used
