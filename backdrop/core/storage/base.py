"""The storage contract: two stores every engine implements identically.

- ``RecordStore`` keeps each data set's records and answers queries over them
  inside the database (SPEC 3, 5.3, 9).
- ``DocumentStore`` keeps every kind of metadata as JSON documents by
  ``(kind, id)`` with optimistic versioning: data-set configs, transforms,
  upload history, dashboards, sources and their runs, settings. A new kind of
  metadata is a new ``kind`` string, never a new engine method.

``tests/core/storage`` runs one contract suite against every reachable engine.
Engines know nothing of HTTP, query strings, response shapes or the rules of
the kinds they store (``backdrop.core.data_sets`` owns those of data sets).

Records handed to ``RecordStore.save`` are prepared by ``backdrop.core.records``:
a flat dict of JSON values plus

- ``_id``: str, always present;
- ``_updated_at``: aware UTC datetime, always present;
- ``_timestamp``, ``_start_at``, ``_end_at``: aware UTC datetimes when given;
- for records with ``_timestamp``, the period keys of
  ``backdrop.core.periods.PERIOD_KEYS`` (``_hour_start_at`` … ``_year_start_at``),
  aware UTC datetimes used for grouping only.

Records returned by ``find`` and ``get`` are the same dicts, with the time
fields as aware UTC datetimes and *without* the period keys.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeAlias, runtime_checkable

from backdrop.core.query import Collect, Sort, Where
from backdrop.core.rollups import DataSetState, RollupSpec

TIME_FIELDS = ("_timestamp", "_updated_at", "_start_at", "_end_at")

Record: TypeAlias = dict[str, Any]
"""One record: a flat mapping of field names to JSON values and datetimes."""

Row: TypeAlias = dict[str, Any]
"""One row of an aggregate: group values, ``_start_at``, ``_count``, partials."""

JSONObject: TypeAlias = dict[str, Any]
"""A JSON object: str keys; str, int, float, bool, None, list or dict values."""

FilterValue: TypeAlias = str | int | bool


@dataclass(frozen=True)
class Document:
    """A stored document: its address, version (1 on creation, +1 per put),
    the time of its last put (aware UTC) and its JSON body."""

    kind: str
    id: str
    version: int
    body: JSONObject
    updated_at: datetime


@runtime_checkable
class RecordStore(Protocol):
    """The records of every data set, one storage area (table, collection) each."""

    def create(self, data_set: str) -> None:
        """Prepare storage for a new data set's records (tables, indexes), first
        dropping whatever an earlier data set of the same name left behind."""

    def drop(self, data_set: str) -> None:
        """Remove the data set's records and their storage. No error if none."""

    def save(
        self,
        data_set: str,
        records: list[Record],
        capped_size: int | None = 0,
        *,
        replace: bool = False,
    ) -> None:
        """Store the batch atomically (all or nothing) and durably before
        returning. A record whose ``_id`` exists replaces it. With ``replace``,
        every record already stored is deleted in the same transaction, so a
        reader sees the old records or the new ones, never a mix or nothing.
        With a positive ``capped_size`` (bytes of stored records), the oldest
        records by ``_updated_at`` are then dropped until the rest fit. Values an
        engine cannot store raise ``InvalidRecords`` naming record and key."""

    def get(self, data_set: str, record_id: str) -> Record | None:
        """One record by ``_id``, or None."""

    def delete(self, data_set: str, record_id: str) -> bool:
        """Delete one record. False if there is none with that id."""

    def empty(self, data_set: str) -> None:
        """Delete every record of the data set (its storage stays)."""

    def count(self, data_set: str) -> int:
        """How many records the data set holds (0 for an unknown data set)."""

    def last_updated(self, data_set: str) -> datetime | None:
        """The newest ``_updated_at`` of the data set's records, or None."""

    def find(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> list[Record]:
        """Matching records, sorted by ``sort`` (then ``_id``), else by
        ``_timestamp`` then ``_id``; missing values sort as null, and nulls come
        first ascending, last descending. ``limit`` cuts after sorting. The
        record nearest a time is ``find`` with a time bound, a sort and limit 1
        (the sliding rule of ``backdrop.core.reading`` uses it that way)."""

    def scan(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> Generator[Record, None, None]:
        """What ``find`` returns, lazily: from a database cursor read in batches,
        so a large result never sits in memory whole. The caller iterates it to
        the end or closes it (which releases the cursor)."""

    def page(
        self,
        data_set: str,
        after: str | None,
        limit: int,
        updated_since: datetime | None = None,
    ) -> list[Record]:
        """Up to ``limit`` records in ``_id`` order (the order of the engine's
        ``_id`` index: code points, or PostgreSQL's collation), starting after
        the ``_id`` ``after`` (from the first when None); with ``updated_since``,
        only records whose ``_updated_at`` is at or after it. Keyset paging on
        the ``_id`` index: a page costs the same anywhere in the data set, and
        records written between pages never make a walk skip or repeat one that
        was there when it started (SPEC 13)."""

    def aggregate(
        self,
        data_set: str,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
        collects: tuple[Collect, ...],
    ) -> list[Row]:
        """Group matching records inside the database.

        One row per distinct combination of the ``group_by`` fields' values and,
        with a ``period`` name, of that period's start key; records where any
        group field is missing or null are left out (a ``period`` needs
        ``_timestamp``). Each row holds the group fields' values, ``_start_at``
        (the period start, aware UTC, only with a period), ``_count`` (records
        in the group) and, per collect, its partial value under ``collect.key``
        as ``backdrop.core.query.CollectMethod`` describes. Rows come in any
        order. ``sum``/``mean`` over a value that is neither a number nor null
        (booleans included) raise ``InvalidQuery("invalid collect function")``.
        Integer sums stay integers."""

    # Beside the records, per data set: a version and the rollup
    # (``backdrop.core.rollups``). Every write above (save, save_batches,
    # delete, empty, create, drop, capping) bumps the version and updates a
    # built rollup in its own transaction.

    def state(self, data_set: str) -> DataSetState:
        """The data set's version and rollup (``DataSetState()`` if none)."""

    def set_rollup(self, data_set: str, spec: RollupSpec | None) -> None:
        """Keep ``spec`` from now on (None: no rollup). A spec other than the
        current one discards the rollup rows and leaves it not ready until
        ``build_rollup``; the same spec again changes nothing."""

    def build_rollup(self, data_set: str) -> bool:
        """Compute the rollup rows from the records and mark it ready, in one
        transaction (writers of the data set wait for it; MongoDB, whose
        transactions are time-limited, walks the records in short ones while
        writers keep what is already counted). True if a rollup
        is now ready, False if the data set has none."""

    def rollup_rows(
        self,
        data_set: str,
        group: int,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
    ) -> list[Row]:
        """Counter sums (``RollupSpec.counter_names()``) over the rows of rollup
        group ``group``: one row per distinct ``group_by`` values and, with a
        ``period``, ``_start_at`` (that period's start). Reads the
        ``ALL_TIME`` rows when ``rollups.uses_all_time(where, period)``, else
        the grain rows whose bucket is within ``where``'s bounds. Filters and
        prefixes match the group's fields exactly as they match records.
        Group values are the records' JSON values (None rows may be left in)."""


@runtime_checkable
class BatchSaving(Protocol):
    """Optional for a ``RecordStore``: many batches in one transaction.

    File uploads (``backdrop.core.uploads``) use it to store a whole file all
    or nothing while holding only one batch in memory; on a store without it
    they store the (already validated) batches one transaction each."""

    def save_batches(
        self, data_set: str, batches: Iterable[list[Record]], capped_size: int | None = 0
    ) -> int:
        """Store every batch the iterable yields in one transaction, durably,
        replacing by ``_id`` as ``save`` does, capping once at the end; returns
        the records stored. An exception from the iterable, or any failure,
        rolls every batch back."""


@runtime_checkable
class DocumentStore(Protocol):
    """JSON documents by ``(kind, id)``, with optimistic versioning.

    ``kind`` is a short lowercase name (``data_set``, ``transform``, ``upload``,
    ``dashboard``…); ``id`` a string of at most 200 characters. Concurrent
    writers of one document use ``expected_version``: of two puts expecting the
    same version, exactly one succeeds and the other raises ``VersionConflict``.
    """

    def get(self, kind: str, id: str) -> Document | None:
        """The document, or None."""

    def list(self, kind: str, filters: Mapping[str, FilterValue] | None = None) -> list[Document]:
        """Every document of ``kind`` whose body has each ``filters`` key at the
        top level with exactly that value (``True`` never equals ``1``), sorted
        by id."""

    def put(
        self, kind: str, id: str, body: JSONObject, expected_version: int | None = None
    ) -> Document:
        """Store ``body`` and return the stored document (version + 1).

        ``expected_version``: None writes unconditionally (create or replace);
        0 creates only, raising ``VersionConflict`` if the document exists; n
        replaces only a stored version n, else ``VersionConflict``."""

    def delete(self, kind: str, id: str, expected_version: int | None = None) -> bool:
        """Delete the document; False if there is none. With ``expected_version``
        a stored document of another version raises ``VersionConflict``."""


@runtime_checkable
class StorageEngine(Protocol):
    """One database: its record store and its document store.

    Every method of either store may raise ``StorageUnavailable`` (503) when the
    database cannot be reached; engines reconnect by themselves later.
    Connections are opened lazily, per process (so gunicorn can fork after the
    app is built), and schema is created on first use.
    """

    scheme: str  # "sqlite", "mongodb" or "postgresql"
    records: RecordStore
    documents: DocumentStore

    def ping(self) -> None:
        """Raise ``StorageUnavailable`` unless the database answers."""

    def close(self) -> None:
        """Release this process's connections."""
