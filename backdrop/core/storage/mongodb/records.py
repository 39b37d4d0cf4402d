"""The record store: the records of data set ``X`` live in collection ``X``.

Records are documents with a string ``_id`` and BSON dates for the time fields
and period keys. BSON dates hold milliseconds, so sub-millisecond parts of
times are dropped on save. Filtering, grouping and collects run in the
aggregation pipeline (``backdrop.core.storage.mongodb.pipeline``).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from datetime import datetime
from typing import Any

import bson
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING, DESCENDING, IndexModel, ReplaceOne
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.cursor import Cursor

from backdrop.core.periods import PERIOD_KEYS
from backdrop.core.query import Collect, Sort, Where
from backdrop.core.storage.base import Record, Row
from backdrop.core.storage.mongodb import pipeline
from backdrop.core.storage.mongodb.capping import SIZES, Capping, Counter, size_of
from backdrop.core.storage.mongodb.connection import Connection, create_collection
from backdrop.core.storage.mongodb.failures import available, translated
from backdrop.core.storage.mongodb.rollup_store import RollupMethods, prepare
from backdrop.core.storage.mongodb.values import as_record, encode, plain, without_period_keys
from backdrop.errors import BadRequest, StorageUnavailable

# "<database>.<collection>" may hold 255 bytes, 235 once sharded (MongoDB
# 4.4+); data-set names keep to the lower figure so any collection can be sharded.
NAMESPACE_BYTES = 235
# Decoded times are aware, as the records' are.
AWARE: CodecOptions[Mapping[str, Any]] = CodecOptions(tz_aware=True)
SCAN_BATCH = 1000
# How often create() drops a collection that a stale write keeps re-creating.
CREATE_ATTEMPTS = 3

INDEXES = [
    IndexModel([("_timestamp", ASCENDING), ("_id", ASCENDING)]),
    IndexModel([("_updated_at", ASCENDING), ("_id", ASCENDING)]),
    *(IndexModel([(key, ASCENDING)]) for key in PERIOD_KEYS),
]


class MongoRecords(RollupMethods):
    """The RecordStore over MongoDB; see ``backdrop.core.storage.base``."""

    def __init__(self, connection: Connection):
        self.connection = connection

    @property
    def max_name_bytes(self) -> int:
        """The longest data-set name (in UTF-8 bytes) this database can hold."""
        return NAMESPACE_BYTES - len(self.connection.database_name.encode()) - 1

    def _check_name(self, data_set: str) -> None:
        if len(data_set.encode()) > self.max_name_bytes:
            raise BadRequest(
                f"Data set name is too long for MongoDB: at most {self.max_name_bytes} "
                f'bytes with database "{self.connection.database_name}", '
                f"this one has {len(data_set.encode())}"
            )

    def _collection(self, data_set: str) -> Collection[Any]:
        collection = self.connection.collection(data_set)
        if data_set not in self.connection.prepared:
            collection.create_indexes(INDEXES)
            self.connection.prepared.add(data_set)
        return collection

    @available
    def create(self, data_set: str) -> None:
        """Drop what an earlier data set of that name left (another worker may
        have written to it after its deletion), then create the collection and
        its indexes, whatever this process's cache says (the cache only saves
        writes a round trip). A stale write landing between the drop and the
        creation re-creates the collection; the drop is then tried again."""
        self._check_name(data_set)
        database = self.connection.database()
        for _ in range(CREATE_ATTEMPTS):
            database.drop_collection(data_set)
            Counter(database, data_set, None).forget()
            self.connection.prepared.discard(data_set)
            if create_collection(database, data_set):
                break
        else:
            raise StorageUnavailable(
                f'Data set "{data_set}" is still being written to from its earlier life, '
                "please retry later"
            )
        self._collection(data_set)
        create_collection(database, SIZES)  # so that no transaction has to create it
        self._restart(data_set)

    @available
    def drop(self, data_set: str) -> None:
        """Unset the rollup first (queries then read the records), drop, and
        bump the version again once the records are gone."""
        self._restart(data_set, unset=True)
        database = self.connection.database()
        database.drop_collection(data_set)
        Counter(database, data_set, None).forget()
        self.connection.prepared.discard(data_set)
        self._restart(data_set)

    @available
    def save(
        self,
        data_set: str,
        records: list[Record],
        capped_size: int | None = 0,
        *,
        replace: bool = False,
    ) -> None:
        """Replace-or-insert by ``_id`` with one ordered ``bulk_write``.

        On a replica set or sharded cluster the batch and the capping run in
        one transaction: all or nothing. A standalone server has no
        multi-document transactions: each record is written atomically and an
        ordered bulk write stops at the first failure, so a failed batch may
        leave its leading records stored; since a retry replaces them by
        ``_id``, retrying the batch converges without duplicates.

        A capped save keeps the data set's byte counter in the same
        transaction (``capping``), an uncapped one drops it; a built rollup
        trades the records replaced for the batch there (``rollups.Upkeep``).
        """
        if not records and not replace:
            return
        self._check_name(data_set)
        encoded = encode(records)
        collection = self._collection(data_set)
        database = self.connection.database()
        stand_in = self.connection.stand_in
        # The last of several records with one _id is the one stored.
        pairs = zip(records, encoded, strict=True)
        final = {record["_id"]: size_of(document) for record, document in pairs}
        prepare(self.connection)

        def write(session: ClientSession | None) -> None:
            upkeep = self._upkeep(data_set, session, begin=True)
            counter = Counter(database, data_set, session)
            capping = Capping(collection, counter, session, stand_in, upkeep)
            capped = bool(capped_size and capped_size > 0)
            replaced = capping.stored_bytes(list(final)) if capped and not replace else 0
            upkeep.replacing(collection, list(final), replace=replace)
            if replace:
                collection.delete_many({}, session=session)
            if stand_in:  # mongomock stores dicts, not BSON, and lacks bulk_write
                for record in records:
                    collection.replace_one({"_id": record["_id"]}, record, upsert=True)
            elif encoded:
                operations: list[ReplaceOne[Any]] = [
                    ReplaceOne({"_id": record["_id"]}, document, upsert=True)
                    for record, document in zip(records, encoded, strict=True)
                ]
                collection.bulk_write(operations, ordered=True, session=session)
            upkeep.saved(records)
            if capped:
                added = sum(final.values())
                capping.after_save(added, replaced, capped_size or 0, replace=replace)
            else:
                capping.counter.forget()
            upkeep.end()

        self._maintained(data_set, write)

    @available
    def get(self, data_set: str, record_id: str) -> Record | None:
        document = self.connection.collection(data_set).find_one(
            {"_id": record_id}, without_period_keys()
        )
        return as_record(document) if document else None

    @available
    def delete(self, data_set: str, record_id: str) -> bool:
        """Delete one record and take it off the byte counter and the rollup."""
        prepare(self.connection)
        database = self.connection.database()
        collection = database[data_set]
        if not self.connection.stand_in:  # the deleted record as the bytes it was
            options = collection.codec_options.with_options(document_class=RawBSONDocument)
            collection = collection.with_options(codec_options=options)

        def remove(session: ClientSession | None) -> bool:
            upkeep = self._upkeep(data_set, session, begin=True)
            removed = collection.find_one_and_delete({"_id": record_id}, session=session)
            if removed is not None:
                Counter(database, data_set, session).add(-size_of(removed))
                raw = isinstance(removed, RawBSONDocument)
                upkeep.change([bson.decode(removed.raw, AWARE) if raw else removed], -1)
            upkeep.end()
            return removed is not None

        return self._maintained(data_set, remove)

    @available
    def empty(self, data_set: str) -> None:
        prepare(self.connection)
        database = self.connection.database()

        def remove_all(session: ClientSession | None) -> None:
            upkeep = self._upkeep(data_set, session, begin=True)
            database[data_set].delete_many({}, session=session)
            Counter(database, data_set, session).zero()
            upkeep.discard()
            upkeep.end()

        self.connection.write(remove_all)

    @available
    def count(self, data_set: str) -> int:
        return self.connection.collection(data_set).count_documents({})

    @available
    def last_updated(self, data_set: str) -> datetime | None:
        document = self.connection.collection(data_set).find_one(
            {}, {"_updated_at": True}, sort=[("_updated_at", DESCENDING)], allow_disk_use=True
        )
        return plain(document["_updated_at"]) if document else None

    def _cursor(
        self, data_set: str, where: Where, sort: Sort | None, limit: int | None
    ) -> Cursor[Any]:
        """MongoDB sorts missing and null alike, below every other value, which
        is the contract's "nulls first ascending, last descending"."""
        if sort is None:
            order = [("_timestamp", ASCENDING), ("_id", ASCENDING)]
        else:
            order = [(sort.key, DESCENDING if sort.descending else ASCENDING)]
            if sort.key != "_id":
                order.append(("_id", ASCENDING))
        cursor = self.connection.collection(data_set).find(
            pipeline.query(pipeline.conditions(where)),
            without_period_keys(),
            sort=order,
            allow_disk_use=True,
        )
        return cursor.limit(limit) if limit is not None else cursor

    @available
    def find(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> list[Record]:
        if limit is not None and limit <= 0:
            return []  # to MongoDB, limit 0 means no limit
        return [as_record(document) for document in self._cursor(data_set, where, sort, limit)]

    def scan(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> Generator[Record, None, None]:
        """The cursor in batches of ``SCAN_BATCH``, each fetch under the time limit."""
        if limit is not None and limit <= 0:
            return
        with translated(), self.connection.limit():
            cursor = self._cursor(data_set, where, sort, limit).batch_size(SCAN_BATCH)
        try:
            while True:
                with translated(), self.connection.limit():
                    document = next(cursor, None)
                if document is None:
                    return
                yield as_record(document)
        finally:
            cursor.close()

    @available
    def page(
        self,
        data_set: str,
        after: str | None,
        limit: int,
        updated_since: datetime | None = None,
    ) -> list[Record]:
        if limit <= 0:
            return []  # to MongoDB, limit 0 means no limit
        condition: dict[str, Any] = {"_id": {"$gt": after or ""}}
        if updated_since is not None:
            condition["_updated_at"] = {"$gte": updated_since}
        cursor = self.connection.collection(data_set).find(
            condition,
            without_period_keys(),
            sort=[("_id", ASCENDING)],
            limit=limit,
            allow_disk_use=True,
        )
        return [as_record(document) for document in cursor]

    @available
    def aggregate(
        self,
        data_set: str,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
        collects: tuple[Collect, ...],
    ) -> list[Row]:
        stages = pipeline.grouping(where, group_by, period, collects)
        results = self.connection.collection(data_set).aggregate(stages, allowDiskUse=True)
        # mongomock answers a $group over no documents with a row of _count 0; a server never does.
        return [
            pipeline.row(result, group_by, period, collects)
            for result in results
            if result["_count"]
        ]
