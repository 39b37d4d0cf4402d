"""The tables: one for every data set's records, one for every document.

Every data set's records live in ``backdrop_records``, keyed by ``(data_set,
id)``. The time fields and period keys are ``timestamptz`` columns (ranges and
grouping use plain btree indexes and come back as datetimes); the other fields
are one ``data`` JSONB value. One table rather than one per data set because
creating and dropping data sets then needs no DDL (no per-request identifiers
in SQL, no catalogue bloat with thousands of small data sets, no DDL racing
between processes), while the composite indexes ``(data_set, timestamp NULLS
FIRST, id)`` (ranges, and the default order with a limit) and ``(data_set,
updated_at, seq)`` (freshness, capping) keep every query's cost proportional
to the rows of its own data set in the range it reads.

Beside them, per data set: ``backdrop_state`` (one row per name, never
deleted: ``version`` +1 in every write transaction, the rollup spec document
and whether its rows are built) and ``backdrop_rollups`` (the rows of a built
rollup, see ``postgres.rollups``), keyed by ``(data_set, grp, bucket, dims)``
so a group's time range is one index range scan. ``bucket`` is the grain start,
or ``-infinity`` for the ``ALL_TIME`` rows; ``dims`` is the group's values as
one JSONB object (the filters' JSONB semantics apply to it unchanged);
``counters`` is ``RollupSpec.counter_names()`` in order, as numeric (sums
never overflow).

Documents live in ``documents``, keyed by ``(kind, id)``; ``id`` sorts by code
point (``COLLATE "C"``) so listing in id order reads the primary key in order.
"""

from __future__ import annotations

from backdrop.core.periods import PERIOD_KEYS

SCHEMA_LOCK = 0x6261636B64726F70  # pg_advisory_xact_lock key ("backdrop")

# Record fields kept in their own columns; everything else is in ``data``.
TIME_COLUMNS = {
    "_timestamp": "timestamp",
    "_updated_at": "updated_at",
    "_start_at": "start_at",
    "_end_at": "end_at",
}
PERIOD_COLUMNS = {key: key.strip("_") for key in PERIOD_KEYS}  # _day_start_at → day_start_at
RECORD_COLUMNS = ("id", *TIME_COLUMNS.values(), *PERIOD_COLUMNS.values(), "data")
RETURNED_COLUMNS = "id, timestamp, updated_at, start_at, end_at, data"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS backdrop_records (
    data_set TEXT NOT NULL,
    id TEXT NOT NULL,
    timestamp TIMESTAMPTZ NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    start_at TIMESTAMPTZ NULL,
    end_at TIMESTAMPTZ NULL,
    {", ".join(f"{column} TIMESTAMPTZ NULL" for column in PERIOD_COLUMNS.values())},
    data JSONB NOT NULL,
    seq BIGSERIAL NOT NULL,
    PRIMARY KEY (data_set, id)
);
CREATE INDEX IF NOT EXISTS backdrop_records_timestamp
    ON backdrop_records (data_set, timestamp NULLS FIRST, id);
CREATE INDEX IF NOT EXISTS backdrop_records_updated_at
    ON backdrop_records (data_set, updated_at, seq);
CREATE TABLE IF NOT EXISTS backdrop_state (
    data_set TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    rollup JSONB NULL,
    ready BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE IF NOT EXISTS backdrop_rollups (
    data_set TEXT NOT NULL,
    grp INTEGER NOT NULL,
    bucket TIMESTAMPTZ NOT NULL,
    dims JSONB NOT NULL,
    {", ".join(f"{column} TIMESTAMPTZ NULL" for column in PERIOD_COLUMNS.values())},
    counters NUMERIC[] NOT NULL,
    PRIMARY KEY (data_set, grp, bucket, dims)
);
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    body JSONB NOT NULL,
    PRIMARY KEY (kind, id)
);
"""
