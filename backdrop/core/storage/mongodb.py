"""MongoDB engine (pymongo): production at scale, replica sets and sharded clusters.

Layout, as upstream Backdrop had it: the records of data set ``X`` live in
collection ``X``; configs and transforms live in ``_backdrop_*`` collections,
which no data-set name can clash with (names never start with ``_``). Configs
and transforms are kept as JSON text beside their indexed keys, because a
JSON Schema's ``$ref``/``$schema`` keys are not safe BSON field names.

Records are documents with a string ``_id`` and BSON dates for the time fields
and period keys. BSON dates hold milliseconds, so sub-millisecond parts of
times are dropped on save. Filtering, grouping and collects run in the
aggregation pipeline (MongoDB >= 4.4, for ``$isNumber`` and ``$bsonSize``).

``mongomock`` stands in for a server in tests. It lacks sessions, ``hello``,
``$bsonSize`` and (with pymongo >= 4.9) ``bulk_write``, so with a mongomock
client the engine writes record by record and sizes records client-side. The
query pipelines are the ones a real server runs, written around its other gaps
(no ``$type`` expression; Python equality in ``$match`` and ``$addToSet``).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import bson
import pymongo
from bson.errors import InvalidDocument
from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING, DESCENDING, IndexModel, ReplaceOne, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import (
    ConfigurationError,
    ConnectionFailure,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
)
from pymongo.write_concern import WriteConcern

from backdrop.core.periods import PERIOD_KEYS, PERIODS
from backdrop.core.query import Collect, Filter, Sort, Where
from backdrop.errors import Conflict, InvalidQuery, InvalidRecords, NotFound, StorageUnavailable

DATA_SETS = "_backdrop_data_sets"
TRANSFORMS = "_backdrop_transforms"
COUNTERS = "_backdrop_counters"
DEFAULT_DATABASE = "backdrop"
# How long a request waits for an unreachable server before its 503; the URL's
# own ?serverSelectionTimeoutMS= wins.
SERVER_SELECTION_TIMEOUT_MS = 3000
# A write returns once a majority has it in the journal: "durably stored" (SPEC 4).
DURABLE = WriteConcern(w="majority", j=True)
_PERIOD_KEYS = frozenset(PERIOD_KEYS)

T = TypeVar("T")


def _available(method: Callable[..., T]) -> Callable[..., T]:
    """Turn "cannot reach the server" into a 503; pymongo reconnects by itself."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except ConnectionFailure as error:
            raise StorageUnavailable(
                "The database is unavailable (no answer from MongoDB), please retry later"
            ) from error
        except ConfigurationError as error:  # e.g. a mongodb+srv:// name DNS cannot resolve
            raise StorageUnavailable(
                f"The database is unavailable (MongoDB: {error}), please retry later"
            ) from error

    return wrapper


def _utc(value: Any) -> Any:
    """BSON dates come back with bson's own UTC tzinfo (or naive, from a client
    built without ``tz_aware``); hand out ``datetime.UTC`` everywhere."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _without_period_keys() -> dict[str, bool]:
    """A fresh projection each time: mongomock writes into the one it is given."""
    return dict.fromkeys(PERIOD_KEYS, False)


def _record(document: dict[str, Any]) -> dict[str, Any]:
    return {key: _utc(value) for key, value in document.items() if key not in _PERIOD_KEYS}


def _filter_condition(item: Filter) -> dict[str, Any]:
    """The text itself, or the number it spells, or the boolean. ``$type`` keeps
    1 from matching true (real servers never do; mongomock compares in Python)."""
    options: list[dict[str, Any]] = [{item.field: item.value}]
    if item.number is not None:
        options.append({item.field: {"$eq": item.number, "$type": "number"}})
    if item.boolean is not None:
        options.append({item.field: {"$eq": item.boolean, "$type": "bool"}})
    return options[0] if len(options) == 1 else {"$or": options}


def _match(where: Where) -> list[dict[str, Any]]:
    conditions = [_filter_condition(item) for item in where.filters]
    conditions += [
        {item.field: {"$regex": "^" + re.escape(item.prefix)}} for item in where.prefixes
    ]
    bounds: dict[str, datetime] = {}
    if where.start is not None:
        bounds["$gte"] = where.start
    if where.end is not None:
        bounds["$lte" if where.end_inclusive else "$lt"] = where.end
    if bounds:
        conditions.append({"_timestamp": bounds})
    return conditions


def _query(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    if not conditions:
        return {}
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _present(field: str) -> dict[str, Any]:
    """True when the document has the field, even as null. ``$type`` would say
    "missing" more cheaply, but mongomock lacks it; records are small and flat."""
    keys = {"$map": {"input": {"$objectToArray": "$$ROOT"}, "in": "$$this.k"}}
    return {"$in": [field, keys]}


def _accumulators(index: int, collect: Collect) -> dict[str, Any]:
    """``$group`` accumulators for one collect's partial (see CollectMethod)."""
    value = f"${collect.field}"
    name = f"c{index}"
    if collect.method == "set":
        # Wrapped, tagged values: mongomock's $addToSet turns 0 and false into
        # null and merges 1 with true; BSON never confuses them. A missing field
        # leaves no "value" in the wrapper and is dropped when unwrapping.
        return {f"{name}_set": {"$addToSet": {"value": value, "number": {"$isNumber": value}}}}
    if collect.method == "count":
        return {f"{name}_n": {"$sum": {"$cond": [_present(collect.field), 1, 0]}}}
    if collect.method in ("sum", "mean"):
        numeric = {"$isNumber": value}
        absent_or_null = {"$eq": [{"$ifNull": [value, None]}, None]}
        return {
            f"{name}_sum": {"$sum": value},
            f"{name}_n": {"$sum": {"$cond": [numeric, 1, 0]}},
            f"{name}_bad": {"$max": {"$cond": [{"$or": [numeric, absent_or_null]}, 0, 1]}},
        }
    raise InvalidQuery("Unknown collection method")


def _partial(index: int, collect: Collect, row: dict[str, Any]) -> Any:
    name = f"c{index}"
    if collect.method == "set":
        return [_utc(member["value"]) for member in row[f"{name}_set"] if "value" in member]
    if collect.method == "count":
        return row[f"{name}_n"]
    if row[f"{name}_bad"]:
        raise InvalidQuery("invalid collect function")
    total, numbers = row[f"{name}_sum"], row[f"{name}_n"]
    if collect.method == "sum":
        return total if numbers else None
    return [total, numbers]


def _encode(records: list[dict[str, Any]]) -> list[RawBSONDocument]:
    """Every record as BSON, before any is written, so that a value BSON cannot
    hold (an integer beyond 64 bits) fails the whole batch, not its tail.
    pymongo sends the encoded bytes as they are."""
    encoded, problems = [], []
    for record in records:
        try:
            encoded.append(RawBSONDocument(bson.encode(record)))
        except (InvalidDocument, OverflowError):
            problems += _unstorable(record)
    if problems:
        raise InvalidRecords(problems)
    return encoded


def _unstorable(record: dict[str, Any]) -> list[str]:
    problems = []
    for key, value in record.items():
        try:
            bson.encode({key: value})
        except (InvalidDocument, OverflowError) as error:
            problems.append(f"{record['_id']}: {key} cannot be stored ({error})")
    return problems


class MongoEngine:
    """The StorageEngine over MongoDB; see ``backdrop.core.storage.base``."""

    scheme = "mongodb"

    def __init__(self, url: str, client: Any = None):
        self.url = url
        self.database_name = unquote(urlsplit(url).path.lstrip("/")) or DEFAULT_DATABASE
        self._given_client = client
        self._stand_in = client is not None and type(client).__module__.startswith("mongomock")
        self._client: Any = client
        self._pid = os.getpid()
        self._prepared: set[str] = set()
        self._transactions: bool | None = None

    # --- connection ---

    def _database(self) -> Database:
        """This process's database handle: pymongo clients do not survive a fork,
        so a forked worker opens its own (lazily, without touching the parent's)."""
        if self._given_client is None and (self._client is None or self._pid != os.getpid()):
            options: dict[str, Any] = {"tz_aware": True, "connect": False}
            if "serverselectiontimeoutms" not in urlsplit(self.url).query.lower():
                options["serverSelectionTimeoutMS"] = SERVER_SELECTION_TIMEOUT_MS
            self._client = pymongo.MongoClient(self.url, **options)
            self._pid = os.getpid()
            self._prepared = set()
            self._transactions = None
        return self._client.get_database(self.database_name, write_concern=DURABLE)

    @_available
    def ping(self) -> None:
        try:
            self._database().command("ping")
        except (ConnectionFailure, ConfigurationError):
            raise
        except PyMongoError as error:  # e.g. authentication failed: a 503 that says why
            raise StorageUnavailable(
                f"The database is unavailable (MongoDB: {type(error).__name__}), please retry later"
            ) from error

    def close(self) -> None:
        if self._given_client is None and self._client is not None:
            if self._pid == os.getpid():
                self._client.close()
            self._client = None
        self._prepared = set()
        self._transactions = None

    def _supports_transactions(self) -> bool:
        """Replica sets and mongos run multi-document transactions; standalone
        servers (and mongomock) do not."""
        if self._transactions is None:
            if self._stand_in:
                self._transactions = False
            else:
                hello = self._server_status()
                self._transactions = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
        return self._transactions

    def _server_status(self) -> dict[str, Any]:
        """The ``hello`` reply; servers before 4.4.2 only know it as ``isMaster``."""
        database = self._database()
        try:
            return database.command("hello")
        except OperationFailure:
            return database.command("isMaster")

    # --- collections and indexes, created on first use ---

    def _collection(self, name: str, indexes: list[IndexModel]) -> Collection:
        collection = self._database()[name]
        if name not in self._prepared:
            collection.create_indexes(indexes)
            self._prepared.add(name)
        return collection

    def _data_sets(self) -> Collection:
        return self._collection(
            DATA_SETS,
            [
                IndexModel([("name", ASCENDING)], unique=True),
                IndexModel([("data_group", ASCENDING), ("data_type", ASCENDING)], unique=True),
            ],
        )

    def _transforms(self) -> Collection:
        return self._collection(
            TRANSFORMS, [IndexModel([("data_set", ASCENDING), ("seq", ASCENDING)])]
        )

    def _records(self, data_set: str) -> Collection:
        indexes = [
            IndexModel([("_timestamp", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("_updated_at", ASCENDING), ("_id", ASCENDING)]),
        ]
        indexes += [IndexModel([(key, ASCENDING)]) for key in PERIOD_KEYS]
        return self._collection(data_set, indexes)

    # --- data-set registry ---

    @staticmethod
    def _config_document(config: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": config["name"],
            "data_group": config["data_group"],
            "data_type": config["data_type"],
            "config": json.dumps(config),
        }

    def _address_conflict(self, name: str | None, config: dict[str, Any]) -> Conflict:
        owner = self._data_sets().find_one(
            {"data_group": config["data_group"], "data_type": config["data_type"]}
        )
        owner_name = owner["name"] if owner else name
        return Conflict(
            f'Data set "{owner_name}" already has data_group "{config["data_group"]}" '
            f'and data_type "{config["data_type"]}"'
        )

    @_available
    def create_data_set(self, config: dict[str, Any]) -> None:
        data_sets = self._data_sets()
        try:
            data_sets.insert_one(self._config_document(config))
        except DuplicateKeyError:
            if data_sets.find_one({"name": config["name"]}) is not None:
                raise Conflict(f'A data set named "{config["name"]}" already exists') from None
            raise self._address_conflict(None, config) from None
        self._records(config["name"])

    @_available
    def get_data_set(self, name: str) -> dict[str, Any] | None:
        document = self._data_sets().find_one({"name": name})
        return json.loads(document["config"]) if document else None

    @_available
    def find_data_set(self, data_group: str, data_type: str) -> dict[str, Any] | None:
        document = self._data_sets().find_one({"data_group": data_group, "data_type": data_type})
        return json.loads(document["config"]) if document else None

    @_available
    def list_data_sets(self) -> list[dict[str, Any]]:
        documents = self._data_sets().find({}).sort("name", ASCENDING)
        return [json.loads(document["config"]) for document in documents]

    @_available
    def update_data_set(self, name: str, config: dict[str, Any]) -> None:
        config = {**config, "name": name}
        try:
            result = self._data_sets().replace_one({"name": name}, self._config_document(config))
        except DuplicateKeyError:
            raise self._address_conflict(name, config) from None
        if result.matched_count == 0:
            raise NotFound(f'No collection exists with name "{name}"')

    @_available
    def delete_data_set(self, name: str) -> bool:
        if self._data_sets().delete_one({"name": name}).deleted_count == 0:
            return False
        self._transforms().delete_many({"data_set": name})
        self._database().drop_collection(name)
        self._prepared.discard(name)
        return True

    # --- transforms ---

    @_available
    def add_transform(self, data_set: str, transform: dict[str, Any]) -> str:
        """Ids count up from a counter document, so "oldest first" is exact even
        when several processes add transforms in the same second."""
        counter = self._database()[COUNTERS].find_one_and_update(
            {"_id": TRANSFORMS},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        document = {key: value for key, value in transform.items() if key != "id"}
        self._transforms().insert_one(
            {"seq": counter["seq"], "data_set": data_set, "transform": json.dumps(document)}
        )
        return str(counter["seq"])

    @_available
    def list_transforms(self, data_set: str) -> list[dict[str, Any]]:
        documents = self._transforms().find({"data_set": data_set}).sort("seq", ASCENDING)
        return [
            {**json.loads(document["transform"]), "id": str(document["seq"])}
            for document in documents
        ]

    @_available
    def remove_transform(self, data_set: str, transform_id: str) -> bool:
        if not (transform_id.isascii() and transform_id.isdigit()):
            return False
        result = self._transforms().delete_one({"data_set": data_set, "seq": int(transform_id)})
        return result.deleted_count > 0

    # --- records ---

    @_available
    def save_records(
        self, data_set: str, records: list[dict[str, Any]], capped_size: int | None = 0
    ) -> None:
        """Replace-or-insert by ``_id`` with one ordered ``bulk_write``.

        On a replica set or sharded cluster the batch and the capping run in
        one transaction: all or nothing. A standalone server has no
        multi-document transactions: each record is written atomically and an
        ordered bulk write stops at the first failure, so a failed batch may
        leave its leading records stored; since a retry replaces them by
        ``_id``, retrying the batch converges without duplicates.
        """
        if not records:
            return
        encoded = _encode(records)
        collection = self._records(data_set)
        if self._stand_in:  # mongomock stores dicts, not BSON
            for record in records:
                collection.replace_one({"_id": record["_id"]}, record, upsert=True)
            self._cap(collection, capped_size, None)
            return
        operations = [
            ReplaceOne({"_id": record["_id"]}, document, upsert=True)
            for record, document in zip(records, encoded, strict=True)
        ]

        def write(session: ClientSession | None) -> None:
            collection.bulk_write(operations, ordered=True, session=session)
            self._cap(collection, capped_size, session)

        if not self._supports_transactions():
            write(None)
            return
        with self._client.start_session() as session:
            session.with_transaction(write, write_concern=DURABLE)

    def _cap(
        self, collection: Collection, capped_size: int | None, session: ClientSession | None
    ) -> None:
        """Drop the oldest records by ``_updated_at`` (then ``_id``) until the rest
        fit in ``capped_size`` bytes of BSON, as MongoDB's capped collections count.

        The server sizes records with ``$bsonSize`` and streams sizes only when
        the total is over the cap; mongomock lacks the operator, so there the
        documents are sized client-side."""
        if not capped_size or capped_size <= 0:
            return
        newest_first = [("_updated_at", DESCENDING), ("_id", DESCENDING)]
        if self._stand_in:
            documents = collection.find({}, sort=newest_first)
            sizes = ((len(bson.encode(document)), document) for document in documents)
            self._drop_beyond(collection, sizes, capped_size, session)
            return
        size = {"$bsonSize": "$$ROOT"}
        total = list(
            collection.aggregate(
                [{"$group": {"_id": None, "bytes": {"$sum": size}}}], session=session
            )
        )
        if not total or total[0]["bytes"] <= capped_size:
            return
        pipeline = [
            {"$sort": dict(newest_first)},
            {"$project": {"_id": 1, "_updated_at": 1, "size": size}},
        ]
        with collection.aggregate(pipeline, session=session) as rows:
            sizes = ((row["size"], row) for row in rows)
            self._drop_beyond(collection, sizes, capped_size, session)

    @staticmethod
    def _drop_beyond(
        collection: Collection,
        sizes: Iterator[tuple[int, dict[str, Any]]],
        capped_size: int,
        session: ClientSession | None,
    ) -> None:
        """Given (size, record) newest first, delete the first record that no
        longer fits and every older one, with one range delete."""
        kept = 0
        for size, row in sizes:
            kept += size
            if kept > capped_size:
                cut = row["_updated_at"]
                older = {
                    "$or": [
                        {"_updated_at": {"$lt": cut}},
                        {"_updated_at": cut, "_id": {"$lte": row["_id"]}},
                    ]
                }
                collection.delete_many(older, session=session)
                return

    @_available
    def get_record(self, data_set: str, record_id: str) -> dict[str, Any] | None:
        document = self._records(data_set).find_one({"_id": record_id}, _without_period_keys())
        return _record(document) if document else None

    @_available
    def delete_record(self, data_set: str, record_id: str) -> bool:
        return self._records(data_set).delete_one({"_id": record_id}).deleted_count > 0

    @_available
    def empty(self, data_set: str) -> None:
        self._records(data_set).delete_many({})

    @_available
    def last_updated(self, data_set: str) -> datetime | None:
        document = self._records(data_set).find_one(
            {}, {"_updated_at": True}, sort=[("_updated_at", DESCENDING)]
        )
        return _utc(document["_updated_at"]) if document else None

    @_available
    def find(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
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
        cursor = self._records(data_set).find(
            _query(_match(where)), _without_period_keys(), sort=order, allow_disk_use=True
        )
        if limit is not None:
            cursor = cursor.limit(limit)
        return [_record(document) for document in cursor]

    @_available
    def aggregate(
        self,
        data_set: str,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
        collects: tuple[Collect, ...],
    ) -> list[dict[str, Any]]:
        conditions = _match(where)
        group_id: dict[str, str] = {}
        for index, field in enumerate(group_by):
            conditions.append({field: {"$ne": None}})
            group_id[f"g{index}"] = f"${field}"
        if period is not None:
            key = PERIODS[period].key
            conditions.append({key: {"$ne": None}})
            group_id["period"] = f"${key}"
        accumulators: dict[str, Any] = {"_count": {"$sum": 1}}
        for index, collect in enumerate(collects):
            accumulators.update(_accumulators(index, collect))
        pipeline = [
            {"$match": _query(conditions)},
            {"$group": {"_id": group_id or None, **accumulators}},
        ]
        rows = []
        for row in self._records(data_set).aggregate(pipeline, allowDiskUse=True):
            key = row["_id"] or {}
            result = {field: _utc(key[f"g{index}"]) for index, field in enumerate(group_by)}
            if period is not None:
                result["_start_at"] = _utc(key["period"])
            result["_count"] = row["_count"]
            for index, collect in enumerate(collects):
                result[collect.key] = _partial(index, collect, row)
            rows.append(result)
        return rows
