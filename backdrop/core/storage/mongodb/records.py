"""The record store: the records of data set ``X`` live in collection ``X``.

Records are documents with a string ``_id`` and BSON dates for the time fields
and period keys. BSON dates hold milliseconds, so sub-millisecond parts of
times are dropped on save. Filtering, grouping and collects run in the
aggregation pipeline (``backdrop.core.storage.mongodb.pipeline``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReplaceOne
from pymongo.client_session import ClientSession
from pymongo.collection import Collection

from backdrop.core.periods import PERIOD_KEYS
from backdrop.core.query import Collect, Sort, Where
from backdrop.core.storage.base import Record, Row
from backdrop.core.storage.mongodb import pipeline
from backdrop.core.storage.mongodb.capping import cap
from backdrop.core.storage.mongodb.connection import Connection
from backdrop.core.storage.mongodb.failures import available
from backdrop.core.storage.mongodb.values import as_record, encode, plain, without_period_keys
from backdrop.errors import BadRequest

# "<database>.<collection>" may hold 255 bytes, 235 once sharded (MongoDB
# 4.4+); data-set names keep to the lower figure so any collection can be sharded.
NAMESPACE_BYTES = 235

INDEXES = [
    IndexModel([("_timestamp", ASCENDING), ("_id", ASCENDING)]),
    IndexModel([("_updated_at", ASCENDING), ("_id", ASCENDING)]),
    *(IndexModel([(key, ASCENDING)]) for key in PERIOD_KEYS),
]


class MongoRecords:
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
        have written to it after its deletion), then build the indexes, whatever
        this process's cache says: the cache only saves writes a round trip."""
        self._check_name(data_set)
        self.connection.database().drop_collection(data_set)
        self.connection.prepared.discard(data_set)
        self._collection(data_set)

    @available
    def drop(self, data_set: str) -> None:
        self.connection.database().drop_collection(data_set)
        self.connection.prepared.discard(data_set)

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
        """
        if not records and not replace:
            return
        self._check_name(data_set)
        encoded = encode(records)
        collection = self._collection(data_set)
        stand_in = self.connection.stand_in

        def write(session: ClientSession | None) -> None:
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
            if capped_size and capped_size > 0:
                cap(collection, capped_size, session, stand_in)

        self.connection.write(write)

    @available
    def get(self, data_set: str, record_id: str) -> Record | None:
        document = self.connection.collection(data_set).find_one(
            {"_id": record_id}, without_period_keys()
        )
        return as_record(document) if document else None

    @available
    def delete(self, data_set: str, record_id: str) -> bool:
        return self.connection.collection(data_set).delete_one({"_id": record_id}).deleted_count > 0

    @available
    def empty(self, data_set: str) -> None:
        self.connection.collection(data_set).delete_many({})

    @available
    def count(self, data_set: str) -> int:
        return self.connection.collection(data_set).count_documents({})

    @available
    def last_updated(self, data_set: str) -> datetime | None:
        document = self.connection.collection(data_set).find_one(
            {}, {"_updated_at": True}, sort=[("_updated_at", DESCENDING)], allow_disk_use=True
        )
        return plain(document["_updated_at"]) if document else None

    @available
    def find(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> list[Record]:
        """MongoDB sorts missing and null alike, below every other value, which
        is the contract's "nulls first ascending, last descending"."""
        if limit is not None and limit <= 0:
            return []  # to MongoDB, limit 0 means no limit
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
        if limit is not None:
            cursor = cursor.limit(limit)
        return [as_record(document) for document in cursor]

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
        return [pipeline.row(result, group_by, period, collects) for result in results]
