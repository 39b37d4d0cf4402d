"""Per data set, beside its records: a version and the rollup (``backdrop.core.rollups``).

Collection ``_backdrop_state`` holds one document per data set name,
``{_id: <data set>, version, rollup: <spec document> | null, ready, building,
built_to, reason}``; it outlives a drop, so the version (``$inc`` in every
write) never repeats. ``building``/``built_to``: a build walks the records in
``_id`` order, and writers keep the rows of the records it has counted.
``reason``: why a rollup was left unbuilt (a counter beyond 64 bits).

Collection ``_backdrop_rollups`` holds the counter rows of every data set:
``{_id: <digest>, ds, g, b, d: {field: value}, <period keys>, c: {counter: n}}``
with ``g`` the group index, ``b`` the bucket (``"ALL_TIME"`` or the grain
start as a date), ``d`` the group's values as the records hold them (JSON
types kept), the coarser period starts (``_week_start_at`` …) on grain rows,
and the counters of ``RollupSpec.counter_names()``. Index ``(ds, g, b)``
makes a group lookup and a time range one index range scan.

Writes compute counter changes in Python (``rollups.deltas``): the stored
records a batch replaces are read in the write's session and subtracted, the
new ones added, and the sum applied as ``$inc`` upserts in that same session.
On a replica set or sharded cluster that is the write's transaction, so rows,
records and version change together; the state document is bumped first, so
two writers of one data set conflict there and one retries. A standalone
server (and mongomock) has no multi-document transactions: each document
changes atomically, the version is bumped last (so a reader that sees the
new version sees the new records), and a write that fails half-way or races
another writer of the same data set can leave the rows off until the next
``build_rollup``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from pymongo import ASCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database

from backdrop.core import rollups
from backdrop.core.periods import PERIODS
from backdrop.core.rollups import ALL_TIME, Bucket, DataSetState, Deltas, RollupSpec

STATE = "_backdrop_state"
ROLLUPS = "_backdrop_rollups"
ALL_TIME_MARKER = "ALL_TIME"
ROLLUP_INDEXES = [IndexModel([("ds", ASCENDING), ("g", ASCENDING), ("b", ASCENDING)])]
INT64 = range(-(2**63), 2**63)
MEASURE_WIDTH = len(rollups.MEASURE_COUNTERS)
_ORDER = tuple(PERIODS)
# The state of a rollup that is set but not built (nor being built).
UNBUILT = {"ready": False, "building": False, "built_to": None}


def state_of(document: Mapping[str, Any] | None) -> DataSetState:
    if document is None:
        return DataSetState()
    rollup = document.get("rollup")
    return DataSetState(
        version=int(document.get("version", 0)),
        rollup=None if rollup is None else RollupSpec.from_document(rollup),
        ready=bool(document.get("ready")),
    )


def fields_read(spec: RollupSpec) -> dict[str, bool]:
    """The projection of a stored record that its counters need."""
    names = {field for group in spec.groups for field in group}
    return dict.fromkeys({*names, *spec.measures, PERIODS[spec.grain].key}, True)


def _bucket_text(bucket: Bucket) -> Any:
    return None if bucket is ALL_TIME else int(bucket.timestamp())  # type: ignore[union-attr]


def row_id(data_set: str, key: tuple[int, Bucket, tuple[Any, ...]]) -> str:
    """A short, fixed-size ``_id`` for a (data set, group, bucket, values) row."""
    group, bucket, values = key
    text = orjson.dumps([data_set, group, _bucket_text(bucket), list(values)])
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def _row_fields(
    data_set: str, spec: RollupSpec, key: tuple[int, Bucket, tuple[Any, ...]]
) -> dict[str, Any]:
    """What a new row holds besides its counters."""
    group, bucket, values = key
    fields: dict[str, Any] = {
        "ds": data_set,
        "g": group,
        "d": {
            field: rollups.dimension_value(value)
            for field, value in zip(spec.groups[group], values, strict=True)
        },
    }
    if bucket is ALL_TIME:
        fields["b"] = ALL_TIME_MARKER
        return fields
    fields["b"] = bucket
    for name in _ORDER[_ORDER.index(spec.grain) :]:
        fields[PERIODS[name].key] = PERIODS[name].start(bucket)  # type: ignore[arg-type]
    return fields


class Overflow(Exception):
    """A counter left the 64 bits BSON integers hold."""


class Upkeep:
    """One write's upkeep of one data set's version and rollup, in ``session``
    (None where the server has no transactions)."""

    def __init__(
        self,
        database: Database[Any],
        data_set: str,
        session: ClientSession | None,
        stand_in: bool,
    ):
        self.state = database[STATE]
        self.rows = database[ROLLUPS]
        self.data_set = data_set
        self.session = session
        self._document: dict[str, Any] | None = None
        self.spec: RollupSpec | None = None
        self.upto: str | None = None
        self.partial = False
        self.pending: Deltas = {}
        self.stand_in = stand_in

    def begin(self) -> None:
        """Learn the rollup; in a transaction, bump the version now (writers
        of one data set then conflict on the state document)."""
        if self.session is not None:
            self.document = self.bump()
        else:
            self.document = self.state.find_one({"_id": self.data_set})

    @property
    def document(self) -> dict[str, Any] | None:
        return self._document

    @document.setter
    def document(self, document: dict[str, Any] | None) -> None:
        """The state document as last read. ``spec`` is the rollup to
        maintain (built, or being built), or None; while it is being built,
        only records with an ``_id`` up to ``upto`` are counted in it (none
        when ``upto`` is None)."""
        self._document = document
        state = state_of(document)
        building = bool(document and document.get("building"))
        self.spec = state.rollup if state.ready or building else None
        self.upto = document.get("built_to") if document and building else None
        self.partial = building and not state.ready

    def bump(self, changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
        update: dict[str, Any] = {"$inc": {"version": 1}}
        if changes:
            update["$set"] = dict(changes)
        stored: dict[str, Any] | None = self.state.find_one_and_update(
            {"_id": self.data_set},
            update,
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=self.session,
        )
        return stored or {"_id": self.data_set}  # an upsert returning AFTER: never None

    def change(self, records: Iterable[Mapping[str, Any]], sign: int) -> None:
        """Count (``sign=1``) or discount (``-1``) records, applied by ``end``."""
        spec = self.spec
        if spec is None:
            return
        if self.partial:
            upto = self.upto
            records = [r for r in records if upto is not None and r["_id"] <= upto]
        found = rollups.deltas(spec, records, sign)
        for key, counters in found.items():
            into = self.pending.get(key)
            if into is None:
                self.pending[key] = counters
            else:
                for i, value in enumerate(counters):
                    into[i] += value

    def replacing(self, collection: Collection[Any], ids: list[Any], *, replace: bool) -> None:
        """Before a save: the stored records it replaces leave the rollup
        (every record with ``replace``)."""
        if replace:
            self.discard()
        elif self.spec is not None:
            stored = collection.find(
                {"_id": {"$in": ids}}, fields_read(self.spec), session=self.session
            )
            self.change(stored, -1)

    def saved(self, records: Sequence[Mapping[str, Any]]) -> None:
        """After a save: its records join the rollup (the last of one ``_id``)."""
        if self.spec is not None:
            self.change({record["_id"]: record for record in records}.values(), 1)

    def discard(self) -> None:
        """Every row of the data set goes (its records all went)."""
        self.pending = {}
        if self.spec is not None:
            self.rows.delete_many({"ds": self.data_set}, session=self.session)

    def end(self) -> None:
        """Apply the counted changes, then (without a transaction) bump the version.
        A counter beyond 64 bits leaves the rollup unbuilt (queries read the
        records) with the reason in the state document, never a failed write."""
        spec = self.spec
        if spec is not None and self.pending:
            try:
                self.apply(spec)
            except Overflow as error:
                self.rows.delete_many({"ds": self.data_set}, session=self.session)
                self.document = self.bump(UNBUILT | {"reason": str(error)})
                return
        if self.session is None:
            self.document = self.bump()

    def apply(self, spec: RollupSpec) -> None:
        """``$inc`` upserts of the counted changes; rows left with no record go."""
        names = spec.counter_names()
        operations: list[tuple[dict[str, Any], dict[str, Any]]] = []
        emptied = []
        for key, counters in self.pending.items():
            if any(isinstance(c, int) and c not in INT64 for c in counters):
                raise Overflow(f"a counter of rollup group {key[0]} is beyond 64 bits")
            changes = {f"c.{n}": value for n, value in zip(names, counters, strict=True) if value}
            if not changes:
                continue
            _id = row_id(self.data_set, key)
            if counters[0] < 0:
                emptied.append(_id)
            new = _row_fields(self.data_set, spec, key)
            update = {"$inc": changes, "$setOnInsert": new}
            operations.append(({"_id": _id}, update))
        self.pending = {}
        if self.stand_in:  # mongomock lacks bulk_write
            for condition, update in operations:
                self.rows.update_one(condition, update, upsert=True)
        elif operations:
            bulk = [UpdateOne(condition, update, upsert=True) for condition, update in operations]
            self.rows.bulk_write(bulk, ordered=False, session=self.session)
        if emptied:
            condition = {"_id": {"$in": emptied}, "c._count": {"$lte": 0}}
            self.rows.delete_many(condition, session=self.session)
