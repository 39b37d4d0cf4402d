"""``backdrop migrate`` on MongoDB: build ahead of time what writes would build.

Reads never create collections or indexes (a user with only the ``read`` role
must be able to read), so a data set whose collection or indexes are missing
(made by an earlier version, restored from a dump, built by hand) gets them
here, before its first write. Capped data sets get their byte counter counted
and are trimmed to their cap, so that no write has to scan a collection;
uncapped ones lose a counter that would go stale. Collections that belong to
no data set are listed (creating a data set of that name would drop one), and
dropped only when asked. Running it again changes nothing.

No per-operation time limit applies: an index build on a large collection
takes as long as it takes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from backdrop.core.storage.mongodb.capping import SIZES, Capping, Counter
from backdrop.core.storage.mongodb.connection import Connection, create_collection
from backdrop.core.storage.mongodb.documents import DOCUMENTS
from backdrop.core.storage.mongodb.documents import INDEXES as DOCUMENT_INDEXES
from backdrop.core.storage.mongodb.failures import translated
from backdrop.core.storage.mongodb.records import INDEXES, MongoRecords
from backdrop.core.storage.mongodb.rollup_store import prepare
from backdrop.core.storage.mongodb.rollups import Upkeep

Report = Callable[[str], None]
# Collections of the engine itself, and the server's.
OWN_PREFIXES = ("_backdrop_", "system.")


def _index_names(collection: Any) -> set[str]:
    return set(collection.index_information())


def _prepare(connection: Connection, name: str, existing: set[str]) -> str:
    """The collection and its indexes; what was done, in words."""
    database = connection.database()
    done = []
    if name not in existing and create_collection(database, name):
        done.append("created its collection")
    collection = database[name]
    before = _index_names(collection)
    built = set(collection.create_indexes(INDEXES)) - before
    done.append(f"built {len(built)} indexes" if built else "indexes in place")
    connection.prepared.add(name)
    return ", ".join(done)


def _count(connection: Connection, name: str, capped_size: int | None) -> str:
    """Start (or repair) the byte counter of a capped data set, and trim it to its cap."""
    database = connection.database()
    counter = Counter(database, name, None)
    if not capped_size or capped_size <= 0:
        counter.forget()
        return "not capped"
    capping = Capping(database[name], counter, None, connection.stand_in)
    capping.upkeep = Upkeep(database, name, None, connection.stand_in)
    capping.upkeep.begin()
    total = capping.total_bytes()
    freed = capping.trim(total - capped_size) if total > capped_size else None
    counter.set(total - (freed or 0))
    if freed:
        capping.upkeep.end()  # the rollup loses the trimmed records; a new version
    trimmed = f", trimmed {freed} bytes of its oldest records" if freed else ""
    return f"{total} bytes of records (cap {capped_size}){trimmed}"


def migrate(
    connection: Connection,
    data_sets: Sequence[tuple[str, int | None]],
    report: Report,
    *,
    drop_leftovers: bool = False,
) -> list[str]:
    """Prepare every ``(name, capped_size)`` data set; the collections that
    belong to none (dropped if ``drop_leftovers``)."""
    with translated():
        database = connection.database()
        existing = set(database.list_collection_names())
        database[DOCUMENTS].create_indexes(DOCUMENT_INDEXES)
        connection.prepared.add(DOCUMENTS)
        if SIZES not in existing:
            create_collection(database, SIZES)  # no transaction then has to create it
        prepare(connection)  # the state and rollup collections, their index
        longest = MongoRecords(connection).max_name_bytes
        for number, (name, capped_size) in enumerate(data_sets, start=1):
            if len(name.encode()) > longest:
                done = f"skipped: the name is over the {longest} bytes MongoDB can hold here"
            else:
                prepared = _prepare(connection, name, existing)
                done = f"{prepared}; {_count(connection, name, capped_size)}"
            report(f"[{number}/{len(data_sets)}] {name}: {done}")
        names = {name for name, _ in data_sets}
        leftovers = sorted(n for n in existing - names if not n.startswith(OWN_PREFIXES))
        for name in leftovers:
            records = database[name].estimated_document_count()
            if drop_leftovers:
                database.drop_collection(name)
                report(f"{name}: belonged to no data set, dropped ({records} records)")
            else:
                report(
                    f"{name}: belongs to no data set ({records} records); creating a data set "
                    "of that name would drop it; --drop-leftovers drops it now"
                )
    return leftovers
