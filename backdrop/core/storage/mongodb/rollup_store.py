"""The rollup methods of the MongoDB record store: state, set_rollup,
build_rollup, rollup_rows (the layout and the write-path upkeep are in
``backdrop.core.storage.mongodb.rollups``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from pymongo import ASCENDING
from pymongo.client_session import ClientSession
from pymongo.errors import BulkWriteError, OperationFailure

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
    UNBUILT,
    Overflow,
    Upkeep,
    fields_read,
    state_of,
)
from backdrop.core.storage.mongodb.values import plain

BUILD_CHUNK = 5_000
BAD_VALUE = 2
T = TypeVar("T")


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


def _overflowed(error: OperationFailure) -> bool:
    """A server refusing ``$inc`` past 64 bits ("Failed to apply $inc
    operations to current value"), alone or inside a bulk write's errors."""
    if isinstance(error, BulkWriteError):
        problems = (error.details or {}).get("writeErrors", [])
        return any(p.get("code") == BAD_VALUE and "$inc" in p.get("errmsg", "") for p in problems)
    return error.code == BAD_VALUE and "$inc" in str(error)


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
        upkeep.bump(UNBUILT | {"rollup": None} if unset else None)

    def _maintained(self, data_set: str, write: Callable[[ClientSession | None], T]) -> T:
        """``connection.write(write)``; should a stored counter go past 64 bits
        on the server (which fails the write), the rollup is marked not built,
        with the reason, and the write runs again without it: never a 500."""
        try:
            return self.connection.write(write)
        except OperationFailure as error:
            if not _overflowed(error):
                raise
            reason = f"a counter went beyond 64 bits: {error}"
        self.connection.write(lambda session: self._give_up(data_set, session, reason))
        return self.connection.write(write)

    def _give_up(self, data_set: str, session: ClientSession | None, reason: str) -> None:
        upkeep = self._upkeep(data_set, session)
        upkeep.rows.delete_many({"ds": data_set}, session=session)
        upkeep.bump(UNBUILT | {"reason": reason})

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
            upkeep.bump(UNBUILT | {"rollup": document, "reason": None})

        self.connection.write(change)

    def build_rollup(self, data_set: str) -> bool:
        """Count the records in chunks of ``BUILD_CHUNK`` in ``_id`` order, one
        transaction each (one transaction over a large data set would outlive
        the server's transaction lifetime, 60 s by default). Meanwhile writers
        keep the rows of the records up to the last chunk counted
        (``Upkeep.upto``); the last chunk marks the rollup ready. A build
        started during a walk joins it (so one that died midway resumes); a
        new spec stops it. No per-operation time limit applies (each chunk is
        short)."""
        prepare(self.connection)
        with translated():
            if not self.connection.write(lambda session: self._start_build(data_set, session)):
                return False
            while True:
                done = self.connection.write(lambda session: self._count_chunk(data_set, session))
                if done is not None:
                    return done

    def _start_build(self, data_set: str, session: ClientSession | None) -> bool:
        upkeep = self._upkeep(data_set, session)
        started = upkeep.bump()
        if state_of(started).rollup is None:
            return False
        if started.get("building"):
            return True  # join the walk in progress: a lost build resumes where it stopped
        upkeep.rows.delete_many({"ds": data_set}, session=session)
        upkeep.bump(UNBUILT | {"building": True, "reason": None})
        return True

    def _count_chunk(self, data_set: str, session: ClientSession | None) -> bool | None:
        """Count the next chunk: None while more follow, else whether the
        rollup is ready (False: unset, changed or overflowed meanwhile)."""
        upkeep = self._upkeep(data_set, session)
        document = upkeep.bump()  # writers of the data set conflict with it here
        spec = state_of(document).rollup
        if spec is None or not document.get("building"):
            return state_of(document).ready
        after = document.get("built_to")
        chunk = list(
            self.connection.collection(data_set).find(
                {} if after is None else {"_id": {"$gt": after}},
                fields_read(spec),
                sort=[("_id", ASCENDING)],
                limit=BUILD_CHUNK,
                allow_disk_use=True,
                session=session,
            )
        )
        upkeep.document = {**document, "ready": True, "building": False}  # count it whole
        upkeep.change(chunk, 1)
        try:
            upkeep.apply(spec)
        except Overflow as error:
            upkeep.rows.delete_many({"ds": data_set}, session=session)
            upkeep.bump(UNBUILT | {"reason": str(error)})
            return False
        if len(chunk) < BUILD_CHUNK:
            upkeep.bump({"ready": True, "building": False, "built_to": None})
            return True
        upkeep.bump({"built_to": chunk[-1]["_id"]})
        return None

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
