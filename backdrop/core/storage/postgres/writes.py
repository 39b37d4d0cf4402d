"""The write statements of ``PostgresRecords``, each keeping a built rollup
(``postgres.rollups``) in step in the same transaction."""

from __future__ import annotations

from typing import Any, LiteralString

import psycopg
from psycopg.types.json import Jsonb

from backdrop.core.rollups import RollupSpec
from backdrop.core.storage.base import Record
from backdrop.core.storage.postgres import rollups
from backdrop.core.storage.postgres.schema import PERIOD_COLUMNS, RECORD_COLUMNS, TIME_COLUMNS

# One statement per batch whatever its size: a column array per record column.
_TYPES = {"id": "text", "data": "jsonb"}
_UPSERT: LiteralString = (
    "INSERT INTO backdrop_records (data_set, "  # noqa: S608 - the schema's own column names
    + ", ".join(RECORD_COLUMNS)
    + ") SELECT %s, * FROM unnest("
    + ", ".join(f"%b::{_TYPES.get(c, 'timestamptz')}[]" for c in RECORD_COLUMNS)
    + ") ON CONFLICT (data_set, id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in (*RECORD_COLUMNS[1:], "seq"))
)
# With a rollup: the stored records of the batch's ids as they were before
# the statement (every part of one statement reads the same snapshot) count
# -1, the upserted ones +1, in one delta.
_CHANGED: LiteralString = (
    "WITH old AS (SELECT stored.* FROM " + rollups.BY_IDS + "), "  # noqa: S608 - constants
    "new AS (" + _UPSERT + " RETURNING ctid AS pos, *), "
    "changed AS (SELECT -1 AS sg, * FROM old UNION ALL SELECT 1, * FROM new) "
)

# Keep the newest records whose stored sizes add up to at most capped_size;
# ties on _updated_at go by write order.
_CAP: LiteralString = (
    "DELETE FROM backdrop_records r USING ("
    "  SELECT id, sum(pg_column_size(data)) OVER ("
    "    ORDER BY updated_at DESC, seq DESC"
    "    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS kept"
    "  FROM backdrop_records WHERE data_set = %s"
    ") sizes WHERE r.data_set = %s AND r.id = sizes.id AND sizes.kept > %s"
)
_DELETE: LiteralString = "DELETE FROM backdrop_records WHERE data_set = %s AND id = %s"


def cap(
    conn: psycopg.Connection[Any], data_set: str, size: int, spec: RollupSpec | None
) -> list[rollups.Key]:
    """Drop the oldest records past ``size``, subtracting them from the rollup."""
    params = [data_set, data_set, size]
    if spec is None:
        conn.execute(_CAP, params)
        return []
    statement = rollups.delta(
        spec, "gone", -1, prefix="WITH gone AS (" + _CAP + " RETURNING r.ctid AS pos, r.*) "
    )
    return rollups.apply(conn, statement, [*params, data_set])


def upsert(
    conn: psycopg.Connection[Any], data_set: str, records: list[Record], spec: RollupSpec | None
) -> list[rollups.Key]:
    """Upsert the batch in id order (a repeated id's last version wins),
    moving the rollup from the stored records of its ids to the new."""
    rows = {row[0]: row for row in sorted(map(_row, records), key=lambda row: row[0])}
    columns = [list(column) for column in zip(*rows.values(), strict=True)]
    if not columns:
        return []
    if spec is None:
        conn.execute(_UPSERT, [data_set, *columns])
        return []
    statement = rollups.delta(spec, "changed", 0, prefix=_CHANGED)
    return rollups.apply(conn, statement, [columns[0], data_set, data_set, *columns, data_set])


_INTERNAL = frozenset({"_id", *TIME_COLUMNS, *PERIOD_COLUMNS})


def _row(record: Record) -> tuple[Any, ...]:
    data = {key: value for key, value in record.items() if key not in _INTERNAL}
    return (
        record["_id"],
        *(record.get(key) for key in TIME_COLUMNS),
        *(record.get(key) for key in PERIOD_COLUMNS),
        Jsonb(data),
    )


def delete(
    conn: psycopg.Connection[Any], data_set: str, record_id: str, spec: RollupSpec | None
) -> bool:
    """Delete one record, subtracting it from the rollup."""
    if spec is None:
        return bool(conn.execute(_DELETE, (data_set, record_id)).rowcount)
    prefix: LiteralString = "WITH gone AS (" + _DELETE + " RETURNING ctid AS pos, *) "
    statement = rollups.delta(spec, "gone", -1, prefix=prefix)
    with conn.cursor() as cursor:
        cursor.execute(statement, (data_set, record_id, data_set))
        changed = cursor.fetchall()
    rollups.prune(conn, data_set, [(g, b, d) for g, b, d, n in changed if n == 0])
    return bool(changed)
