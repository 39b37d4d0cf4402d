"""Capped data sets: drop the oldest records until the rest fit in the cap."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import bson
from pymongo import DESCENDING
from pymongo.client_session import ClientSession
from pymongo.collection import Collection

NEWEST_FIRST = [("_updated_at", DESCENDING), ("_id", DESCENDING)]


def cap(
    collection: Collection[Any], capped_size: int, session: ClientSession | None, stand_in: bool
) -> None:
    """Drop the oldest records by ``_updated_at`` (then ``_id``) until the rest
    fit in ``capped_size`` bytes of BSON, as MongoDB's capped collections count.

    The server sizes records with ``$bsonSize``; mongomock lacks the operator,
    so there the documents are sized client-side."""
    if stand_in:
        documents = collection.find({}, sort=NEWEST_FIRST, allow_disk_use=True)
        _drop_beyond(collection, ((len(bson.encode(d)), d) for d in documents), capped_size, None)
        return
    size = {"$bsonSize": "$$ROOT"}
    total = list(
        collection.aggregate([{"$group": {"_id": None, "bytes": {"$sum": size}}}], session=session)
    )
    if not total or total[0]["bytes"] <= capped_size:
        return
    pipeline: list[dict[str, Any]] = [
        {"$sort": dict(NEWEST_FIRST)},
        {"$project": {"_id": 1, "_updated_at": 1, "size": size}},
    ]
    with collection.aggregate(pipeline, session=session, allowDiskUse=True) as rows:
        _drop_beyond(collection, ((row["size"], row) for row in rows), capped_size, session)


def _drop_beyond(
    collection: Collection[Any],
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
            collection.delete_many(older_than(row), session=session)
            return


def older_than(row: dict[str, Any]) -> dict[str, Any]:
    """Records at or before ``row`` in (``_updated_at``, ``_id``) order."""
    cut = row["_updated_at"]
    return {
        "$or": [{"_updated_at": {"$lt": cut}}, {"_updated_at": cut, "_id": {"$lte": row["_id"]}}]
    }
