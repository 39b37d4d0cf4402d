"""The document store: collection ``_backdrop_documents``.

Each document is ``{_id: {kind, id}, version, updated_at, body, fields}``:
``body`` is the JSON text of the body, because JSON Schema keys such as
``$ref`` or ``a.b`` are not storable BSON field names on MongoDB 4.4;
``fields`` copies the body's top-level scalar values whose keys are plain
names, so that ``list`` filters run on the server. The leading ``_`` keeps
the collection apart from data sets' (their names never start with ``_``).

Conditional writes are single server operations (an insert that a duplicate
``_id`` refuses, an update whose filter holds the expected version), so of
two writers expecting one version exactly one wins, on any topology.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, IndexModel, ReadPreference
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from backdrop.core.storage.base import Document, FilterValue, JSONObject
from backdrop.core.storage.mongodb.connection import Connection
from backdrop.core.storage.mongodb.failures import available
from backdrop.core.storage.mongodb.values import plain
from backdrop.errors import VersionConflict

DOCUMENTS = "_backdrop_documents"
INDEXES = [IndexModel([("_id.kind", ASCENDING), ("_id.id", ASCENDING)])]
_INT64 = range(-(2**63), 2**63)
# A mongomock-only guard: mongomock matches a filter and then writes in two
# steps (and builds indexes while inserts run), so two threads can both "win"
# one version. Real servers decide in one operation; with a pymongo client
# this lock is never taken, so it cannot hide a real-server race.
_STAND_IN_LOCK = threading.Lock()


def _key(kind: str, id: str) -> dict[str, str]:
    """The ``_id``; always built here, as sub-document equality is field-order exact."""
    return {"kind": kind, "id": id}


def _filterable(key: str, value: Any) -> bool:
    if not key or key.startswith("$") or "." in key or "\0" in key:
        return False
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return True
    return isinstance(value, int) and value in _INT64


def _condition(value: FilterValue) -> dict[str, Any]:
    """Equality of the same JSON type: ``True`` never matches ``1``, nor ``"1"`` 1."""
    if isinstance(value, bool):
        return {"$eq": value, "$type": "bool"}
    if isinstance(value, int):
        return {"$eq": value, "$type": "number"}
    return {"$eq": value, "$type": "string"}


def _same(stored: Any, value: FilterValue) -> bool:
    return type(stored) is type(value) and stored == value


def _now() -> datetime:
    """BSON dates hold milliseconds: the put returns what a get will."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _document(stored: dict[str, Any]) -> Document:
    return Document(
        kind=stored["_id"]["kind"],
        id=stored["_id"]["id"],
        version=int(stored["version"]),
        body=json.loads(stored["body"]),
        updated_at=plain(stored["updated_at"]),
    )


class MongoDocuments:
    """The DocumentStore over MongoDB; see ``backdrop.core.storage.base``."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def _collection(self) -> Collection[Any]:
        """Read from the primary whatever the URL's read preference: a version
        read from a lagging secondary would make every next put a conflict."""
        collection = self.connection.collection(DOCUMENTS)
        if not self.connection.stand_in:
            collection = collection.with_options(read_preference=ReadPreference.PRIMARY)
        return collection

    def _writable(self) -> Collection[Any]:
        collection = self._collection()
        if DOCUMENTS not in self.connection.prepared:
            collection.create_indexes(INDEXES)
            self.connection.prepared.add(DOCUMENTS)
        return collection

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        with _STAND_IN_LOCK if self.connection.stand_in else nullcontext():
            yield

    @available
    def get(self, kind: str, id: str) -> Document | None:
        stored = self._collection().find_one({"_id": _key(kind, id)})
        return _document(stored) if stored else None

    @available
    def list(self, kind: str, filters: Mapping[str, FilterValue] | None = None) -> list[Document]:
        query: dict[str, Any] = {"_id.kind": kind}
        for key, value in (filters or {}).items():
            if _filterable(key, value):
                query[f"fields.{key}"] = _condition(value)
        cursor = self._collection().find(query, sort=[("_id.id", ASCENDING)], allow_disk_use=True)
        documents = [_document(stored) for stored in cursor]
        return [
            document
            for document in documents
            if all(_same(document.body.get(k, _same), v) for k, v in (filters or {}).items())
        ]

    @available
    def put(
        self, kind: str, id: str, body: JSONObject, expected_version: int | None = None
    ) -> Document:
        now = _now()
        fields = {key: value for key, value in body.items() if _filterable(key, value)}
        content = {"body": json.dumps(body), "fields": fields, "updated_at": now}
        key = _key(kind, id)
        with self._atomic():
            collection = self._writable()
            if expected_version == 0:
                try:
                    collection.insert_one({"_id": key, "version": 1, **content})
                except DuplicateKeyError:
                    raise VersionConflict() from None
                return Document(kind, id, 1, body, now)
            query: dict[str, Any] = {"_id": key}
            if expected_version is not None:
                query["version"] = expected_version
            stored = collection.find_one_and_update(
                query,
                {"$set": content, "$inc": {"version": 1}},
                projection={"version": True},
                upsert=expected_version is None,
                return_document=True,
            )
        if stored is None:
            raise VersionConflict()
        return Document(kind, id, int(stored["version"]), body, now)

    @available
    def delete(self, kind: str, id: str, expected_version: int | None = None) -> bool:
        collection = self._collection()
        query: dict[str, Any] = {"_id": _key(kind, id)}
        if expected_version is not None:
            query["version"] = expected_version
        with self._atomic():
            if collection.delete_one(query).deleted_count:
                return True
        if expected_version is not None and collection.find_one({"_id": _key(kind, id)}):
            raise VersionConflict()
        return False
