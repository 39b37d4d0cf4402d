"""Per data set: the version and rollup state in ``backdrop_state``, and the
locks every write transaction takes before touching a data set.

A write transaction first takes the data set's advisory lock (exclusive when
it touches rows it did not name, or when a built rollup must be kept right),
then bumps the version with ``INSERT … ON CONFLICT DO UPDATE … RETURNING``.
That row lock is held to the commit, so the writers of one data set run one
after the other from there on (with a built rollup every writer also holds the
exclusive lock, so the old values it subtracts cannot be changed by another
writer meanwhile); always in the order advisory lock, then state row, so two
writers never wait for each other's second lock. The row is never deleted, so
a version never repeats for a name, across drop and create too.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from backdrop.core.rollups import DataSetState, RollupSpec

RECORDS_LOCK = 0x62647273  # first key of the per-data-set advisory locks ("bdrs")

_READ = "SELECT version, rollup, ready FROM backdrop_state WHERE data_set = %s"
_READY = "SELECT ready FROM backdrop_state WHERE data_set = %s"
_BUMP = (
    "INSERT INTO backdrop_state AS s (data_set, version) VALUES (%s, 1) "
    "ON CONFLICT (data_set) DO UPDATE SET version = s.version + 1 "
    "RETURNING rollup, ready"
)
_SET = (
    "INSERT INTO backdrop_state AS s (data_set, version, rollup, ready) VALUES (%s, 1, %s, %s) "
    "ON CONFLICT (data_set) DO UPDATE "
    "SET version = s.version + 1, rollup = excluded.rollup, ready = excluded.ready"
)


def lock(conn: psycopg.Connection[Any], data_set: str, *, exclusive: bool) -> None:
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    conn.execute(f"SELECT {function}(%s, hashtext(%s))", (RECORDS_LOCK, data_set))


def _spec(document: Any) -> RollupSpec | None:
    return None if document is None else RollupSpec.from_document(document)


def read(conn: psycopg.Connection[Any], data_set: str) -> DataSetState:
    row = conn.execute(_READ, (data_set,)).fetchone()
    if row is None:
        return DataSetState()
    version, rollup, ready = row
    return DataSetState(version, _spec(rollup), ready)


def begin(conn: psycopg.Connection[Any], data_set: str, *, exclusive: bool) -> RollupSpec | None:
    """Lock the data set and bump its version; the rollup this transaction
    must keep up to date (a built one), else None."""
    if not exclusive:
        row = conn.execute(_READY, (data_set,)).fetchone()
        exclusive = bool(row and row[0])
    lock(conn, data_set, exclusive=exclusive)
    row = conn.execute(_BUMP, (data_set,)).fetchone()
    rollup, ready = row if row else (None, False)
    return _spec(rollup) if ready else None


def put(
    conn: psycopg.Connection[Any], data_set: str, spec: RollupSpec | None, *, ready: bool
) -> None:
    """Store the spec and readiness, bumping the version."""
    document = None if spec is None else Jsonb(spec.document())
    conn.execute(_SET, (data_set, document, ready and spec is not None))
