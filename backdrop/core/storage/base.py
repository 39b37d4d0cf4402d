"""The storage contract: one interface every engine implements identically.

``tests/core/storage`` runs the same contract suite against every reachable
engine. Engines know nothing of HTTP, query strings or response shapes.

Records handed to ``save_records`` are prepared by ``backdrop.core.records``:
a flat dict of JSON values plus

- ``_id``: str, always present;
- ``_updated_at``: aware UTC datetime, always present;
- ``_timestamp``, ``_start_at``, ``_end_at``: aware UTC datetimes when given;
- for records with ``_timestamp``, the period keys of
  ``backdrop.core.periods.PERIOD_KEYS`` (``_hour_start_at`` … ``_year_start_at``),
  aware UTC datetimes used for grouping only.

Records returned by ``find`` and ``get_record`` are the same dicts, with the
time fields as aware UTC datetimes and *without* the period keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from backdrop.core.query import Collect, Sort, Where

TIME_FIELDS = ("_timestamp", "_updated_at", "_start_at", "_end_at")


@runtime_checkable
class StorageEngine(Protocol):
    """A storage engine. Every method may raise ``StorageUnavailable`` (503) when
    the database cannot be reached; engines reconnect by themselves later.

    Connections are opened lazily, per process (so gunicorn can fork after the
    app is built), and schema, tables and indexes are created on first use.
    """

    scheme: str  # "sqlite", "mongodb" or "postgresql"

    def ping(self) -> None:
        """Raise ``StorageUnavailable`` unless the database answers."""

    def close(self) -> None:
        """Release this process's connections."""

    # --- data-set registry: plain JSON documents owned by core.data_sets ---

    def create_data_set(self, config: dict[str, Any]) -> None:
        """Store a new config (keys include ``name``, ``data_group``, ``data_type``)
        and prepare its record storage. Raise ``Conflict`` with a message if the
        name or the (data_group, data_type) pair is taken."""

    def get_data_set(self, name: str) -> dict[str, Any] | None:
        """The stored config, or None."""

    def find_data_set(self, data_group: str, data_type: str) -> dict[str, Any] | None:
        """The config at that address, or None."""

    def list_data_sets(self) -> list[dict[str, Any]]:
        """Every config, sorted by name."""

    def update_data_set(self, name: str, config: dict[str, Any]) -> None:
        """Replace the stored config of ``name`` (its name never changes). Raise
        ``Conflict`` if the new address belongs to another data set and
        ``NotFound`` if ``name`` does not exist."""

    def delete_data_set(self, name: str) -> bool:
        """Remove the config, its transforms and all its records. False if unknown."""

    # --- transforms (SPEC 7), plain JSON documents ---

    def add_transform(self, data_set: str, transform: dict[str, Any]) -> str:
        """Store a transform for ``data_set`` and return its new id (a string)."""

    def list_transforms(self, data_set: str) -> list[dict[str, Any]]:
        """The data set's transforms, oldest first, each with an ``id`` key."""

    def remove_transform(self, data_set: str, transform_id: str) -> bool:
        """Delete one transform. False if there is none with that id."""

    # --- records ---

    def save_records(
        self, data_set: str, records: list[dict[str, Any]], capped_size: int | None = 0
    ) -> None:
        """Store the batch atomically (all or nothing) and durably before
        returning. A record whose ``_id`` exists replaces it. With a positive
        ``capped_size`` (bytes of stored records), the oldest records by
        ``_updated_at`` are then dropped until the rest fit."""

    def get_record(self, data_set: str, record_id: str) -> dict[str, Any] | None:
        """One record by ``_id``, or None."""

    def delete_record(self, data_set: str, record_id: str) -> bool:
        """Delete one record. False if there is none with that id."""

    def empty(self, data_set: str) -> None:
        """Delete every record of the data set (the data set itself stays)."""

    def last_updated(self, data_set: str) -> datetime | None:
        """The newest ``_updated_at`` of the data set's records, or None."""

    def find(
        self, data_set: str, where: Where, sort: Sort | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Matching records, sorted by ``sort`` (then ``_id``), else by
        ``_timestamp`` then ``_id``; missing values sort as null, and nulls come
        first ascending, last descending. ``limit`` cuts after sorting."""

    def aggregate(
        self,
        data_set: str,
        where: Where,
        group_by: tuple[str, ...],
        period: str | None,
        collects: tuple[Collect, ...],
    ) -> list[dict[str, Any]]:
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
