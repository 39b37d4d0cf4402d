"""Capped data sets: a byte counter per data set, trimmed oldest first only when over the cap.

Collection ``_backdrop_record_sizes`` holds ``{_id: <data set>, bytes: n}``,
the BSON size of a data set's records as MongoDB's capped collections count
it. A capped save keeps the counter in the same transaction as its writes, so
it costs what its batch costs (the sizes of the records it replaces, one
counter update) plus, when over the cap, the records it trims: the whole
collection is read only to start a counter (the first capped save of a data
set without one, or ``backdrop migrate``), or when the counter turns out to
say more than is stored. Uncapped saves drop the counter rather than keep it;
deletes and empties keep an existing counter right.

The server sizes records with ``$bsonSize``; mongomock lacks the operator, so
there the documents are sized client-side.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import bson
from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database

from backdrop.core.storage.mongodb.rollups import Upkeep, fields_read

SIZES = "_backdrop_record_sizes"
OLDEST_FIRST = [("_updated_at", ASCENDING), ("_id", ASCENDING)]
SIZE = {"$bsonSize": "$$ROOT"}


def size_of(document: Any) -> int:
    """Bytes of BSON, as the server counts them."""
    if isinstance(document, RawBSONDocument):
        return len(document.raw)
    return len(bson.encode(document))


class Counter:
    """The stored byte count of one data set, read and written in ``session``."""

    def __init__(self, database: Database[Any], data_set: str, session: ClientSession | None):
        self.sizes = database[SIZES]
        self.data_set = data_set
        self.session = session

    def add(self, delta: int) -> int | None:
        """Add ``delta``; the new count, or None when there is no counter."""
        stored = self.sizes.find_one_and_update(
            {"_id": self.data_set},
            {"$inc": {"bytes": delta}},
            return_document=ReturnDocument.AFTER,
            session=self.session,
        )
        return None if stored is None else int(stored["bytes"])

    def set(self, total: int) -> None:
        self.sizes.update_one(
            {"_id": self.data_set}, {"$set": {"bytes": total}}, upsert=True, session=self.session
        )

    def zero(self) -> None:
        """An existing counter to 0 (an emptied data set); none is started."""
        self.sizes.update_one({"_id": self.data_set}, {"$set": {"bytes": 0}}, session=self.session)

    def forget(self) -> None:
        self.sizes.delete_one({"_id": self.data_set}, session=self.session)


class Capping:
    """Capping of one data set's collection inside one write."""

    def __init__(
        self,
        collection: Collection[Any],
        counter: Counter,
        session: ClientSession | None,
        stand_in: bool,
        upkeep: Upkeep | None = None,
    ):
        self.collection = collection
        self.counter = counter
        self.session = session
        self.stand_in = stand_in
        self.upkeep = upkeep  # the write's rollup upkeep, if any

    def stored_bytes(self, ids: list[Any]) -> int:
        """The size of the stored records with these ids (what a batch replaces)."""
        if self.stand_in:
            return sum(map(size_of, self.collection.find({"_id": {"$in": ids}})))
        return self._sum([{"$match": {"_id": {"$in": ids}}}])

    def total_bytes(self) -> int:
        """The size of every record: a full scan, to start or repair a counter."""
        if self.stand_in:
            return sum(map(size_of, self.collection.find({})))
        return self._sum([])

    def _sum(self, stages: list[dict[str, Any]]) -> int:
        pipeline = [*stages, {"$group": {"_id": None, "bytes": {"$sum": SIZE}}}]
        rows = list(self.collection.aggregate(pipeline, session=self.session))
        return int(rows[0]["bytes"]) if rows else 0

    def after_save(self, added: int, replaced: int, capped_size: int, *, replace: bool) -> None:
        """Count a saved batch (``added`` bytes written over ``replaced`` bytes
        stored), then trim the oldest records if the data set is over its cap."""
        total = None if replace else self.counter.add(added - replaced)
        if total is None:
            total = added if replace else self.total_bytes()
            self.counter.set(total)
        if total <= capped_size:
            return
        freed = self.trim(total - capped_size)
        if freed is None:  # the counter said more than is stored (standalone drift): recount
            total = self.total_bytes()
            self.counter.set(total)
            freed = self.trim(total - capped_size) if total > capped_size else None
        if freed:
            self.counter.add(-freed)

    def trim(self, excess: int) -> int | None:
        """Delete the oldest records (by ``_updated_at``, then ``_id``) until at
        least ``excess`` bytes are gone, with one range delete; the bytes freed,
        or None (nothing deleted) if all records together hold less."""
        freed = 0
        with self._oldest_first() as rows:
            for size, row in rows:
                freed += size
                if freed >= excess:
                    self._uncount(up_to(row))
                    self.collection.delete_many(up_to(row), session=self.session)
                    return freed
        return None

    def _uncount(self, trimmed: dict[str, Any]) -> None:
        """Take the records about to be trimmed off a built rollup."""
        spec = None if self.upkeep is None else self.upkeep.spec
        if self.upkeep is not None and spec is not None:
            found = self.collection.find(trimmed, fields_read(spec), session=self.session)
            self.upkeep.change(found, -1)

    @contextmanager
    def _oldest_first(self) -> Iterator[Iterator[tuple[int, dict[str, Any]]]]:
        """(size, record) pairs, oldest first, read only as far as needed: the
        ``(_updated_at, _id)`` index gives the order without a sort."""
        if self.stand_in:
            documents = self.collection.find({}, sort=OLDEST_FIRST, allow_disk_use=True)
            yield ((size_of(document), document) for document in documents)
            return
        pipeline: list[dict[str, Any]] = [
            {"$sort": dict(OLDEST_FIRST)},
            {"$project": {"_id": 1, "_updated_at": 1, "size": SIZE}},
        ]
        with self.collection.aggregate(pipeline, session=self.session, allowDiskUse=True) as rows:
            yield ((row["size"], row) for row in rows)


def up_to(row: dict[str, Any]) -> dict[str, Any]:
    """Records at or before ``row`` in (``_updated_at``, ``_id``) order."""
    cut = row["_updated_at"]
    return {
        "$or": [{"_updated_at": {"$lt": cut}}, {"_updated_at": cut, "_id": {"$lte": row["_id"]}}]
    }
