"""The rollup methods of the MongoDB record store: state, set_rollup,
build_rollup, rollup_rows (the layout and the write-path upkeep are in
``backdrop.core.storage.mongodb.rollups``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pymongo.client_session import ClientSession

from backdrop.core import rollups
from backdrop.core.periods import PERIODS
from backdrop.core.query import Where
from backdrop.core.rollups import DataSetState, RollupSpec
from backdrop.core.storage.base import Row
from backdrop.core.storage.mongodb import pipeline
from backdrop.core.storage.mongodb.connection import Connection, create_collection
from backdrop.core.storage.mongodb.failures import available, translated
from backdrop.core.storage.mongodb.rollups import (
    ALL_TIME_MARKER,
    ROLLUP_INDEXES,
    ROLLUPS,
    STATE,
    Overflow,
    Upkeep,
    fields_read,
    state_of,
)
from backdrop.core.storage.mongodb.values import plain

BUILD_BATCH = 10_000
# How often build_rollup starts again when, without transactions, a write
# landed while it counted.
BUILD_ATTEMPTS = 3


def prepare(connection: Connection) -> None:
    """The state and rollup collections and the rollup index, once per process,
    outside any transaction (a transaction may not create them everywhere)."""
    if ROLLUPS in connection.prepared:
        return
    database = connection.database()
    create_collection(database, STATE)
    create_collection(database, ROLLUPS)
    database[ROLLUPS].create_indexes(ROLLUP_INDEXES)
    connection.prepared.add(ROLLUPS)


def rows_pipeline(
    data_set: str,
    spec: RollupSpec,
    group: int,
    where: Where,
    group_by: tuple[str, ...],
    period: str | None,
) -> list[dict[str, Any]]:
    """``$match`` the group's rows (one index range on ``(ds, g, b)``), then
    ``$group`` by the values and period start, summing every counter. A group
    value is tagged with whether it is a number, so that ``true`` and ``1``
    stay apart on mongomock too (a server never merges them)."""
    match: dict[str, Any] = {"ds": data_set, "g": group}
    if rollups.uses_all_time(where, period):
        match["b"] = ALL_TIME_MARKER
    else:
        bounds: dict[str, Any] = {}
        if where.start is not None:
            bounds["$gte"] = where.start
        if where.end is not None:
            bounds["$lt"] = where.end
        match["b"] = bounds or {"$type": "date"}
    parts = [match]
    parts += [pipeline.equal(replace(f, field=f"d.{f.field}")) for f in where.filters]
    parts += [pipeline.prefixed(replace(p, field=f"d.{p.field}")) for p in where.prefixes]
    group_id: dict[str, Any] = {}
    for index, field in enumerate(group_by):
        value = f"$d.{field}"
        group_id[f"g{index}"] = {"v": value, "n": {"$isNumber": value}}
    if period is not None:
        group_id["period"] = f"${PERIODS[period].key}"
    sums = {name: {"$sum": f"$c.{name}"} for name in spec.counter_names()}
    return [{"$match": pipeline.query(parts)}, {"$group": {"_id": group_id or None, **sums}}]


def result_row(
    result: dict[str, Any], spec: RollupSpec, group_by: tuple[str, ...], period: str | None
) -> Row:
    key = result["_id"] or {}
    row: Row = {field: plain(key[f"g{i}"].get("v")) for i, field in enumerate(group_by)}
    if period is not None:
        row["_start_at"] = plain(key["period"])
    for name in spec.counter_names():
        row[name] = plain(result.get(name) or 0)
    return row


class RollupMethods:
    """Mixed into ``MongoRecords``; see ``RecordStore`` for the contract."""

    connection: Connection

    @available
    def state(self, data_set: str) -> DataSetState:
        """One ``_id`` read, no DDL and no session: it runs on every read request."""
        return state_of(self.connection.collection(STATE).find_one({"_id": data_set}))

    def _upkeep(
        self, data_set: str, session: ClientSession | None, *, begin: bool = False
    ) -> Upkeep:
        database = self.connection.database()
        upkeep = Upkeep(database, data_set, session, self.connection.stand_in)
        if begin:
            upkeep.begin()
        return upkeep

    def _restart(self, data_set: str, *, unset: bool = False) -> None:
        """After create or drop (outside any transaction, as they are DDL): no
        rows, a new version; ``unset`` also forgets the rollup. A rollup kept
        through create stays as built or not: it has no records to count."""
        prepare(self.connection)
        upkeep = self._upkeep(data_set, None)
        upkeep.rows.delete_many({"ds": data_set})
        upkeep.bump({"rollup": None, "ready": False} if unset else None)

    @available
    def set_rollup(self, data_set: str, spec: RollupSpec | None) -> None:
        prepare(self.connection)

        def change(session: ClientSession | None) -> None:
            upkeep = self._upkeep(data_set, session)
            current = upkeep.state.find_one({"_id": data_set}, session=session)
            if state_of(current).rollup == spec:
                return
            upkeep.rows.delete_many({"ds": data_set}, session=session)
            document = None if spec is None else spec.document()
            upkeep.bump({"rollup": document, "ready": False, "reason": None})

        self.connection.write(change)

    def build_rollup(self, data_set: str) -> bool:
        """Count every record in one transaction (where there are transactions;
        a long build can then outlive the server's transaction lifetime, 60 s by
        default). Without transactions it counts again if a write finished
        while it counted. No per-operation time limit applies."""
        prepare(self.connection)
        with translated():
            for _ in range(BUILD_ATTEMPTS):
                built = self.connection.write(lambda session: self._build(data_set, session))
                if built is not None:
                    return built
        return False

    def _build(self, data_set: str, session: ClientSession | None) -> bool | None:
        """True when built, False when there is no rollup (or it overflowed),
        None when a write raced the build (no transactions only)."""
        upkeep = self._upkeep(data_set, session)
        started = upkeep.bump()
        spec = state_of(started).rollup
        if spec is None:
            return False
        upkeep.rows.delete_many({"ds": data_set}, session=session)
        upkeep.document = {**started, "ready": True}  # count as if built
        records = self.connection.collection(data_set)
        cursor = records.find({}, fields_read(spec), session=session).batch_size(BUILD_BATCH)
        batch: list[dict[str, Any]] = []
        for document in cursor:
            batch.append(document)
            if len(batch) >= BUILD_BATCH:
                upkeep.change(batch, 1)
                batch = []
        upkeep.change(batch, 1)
        try:
            upkeep.apply(spec)
        except Overflow as error:
            upkeep.rows.delete_many({"ds": data_set}, session=session)
            upkeep.bump({"ready": False, "reason": str(error)})
            return False
        finished = upkeep.state.update_one(
            {"_id": data_set, "version": started["version"]},
            {"$set": {"ready": True, "reason": None}, "$inc": {"version": 1}},
            session=session,
        )
        return True if finished.matched_count else None

    @available
    def rollup_rows(
        self,
        data_set: str,
        group: int,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
    ) -> list[Row]:
        spec = self.state(data_set).rollup
        if spec is None or group >= len(spec.groups):
            return []  # unset since the caller read the state: no rows
        stages = rows_pipeline(data_set, spec, group, where, group_by, period)
        results = self.connection.collection(ROLLUPS).aggregate(stages, allowDiskUse=True)
        return [result_row(result, spec, group_by, period) for result in results]
