"""The write statements of ``PostgresRecords``, each keeping a built rollup
(``postgres.rollups``) in step in the same transaction."""

from __future__ import annotations

from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from backdrop.core.rollups import RollupSpec
from backdrop.core.storage.base import Record
from backdrop.core.storage.postgres import rollups
from backdrop.core.storage.postgres.schema import PERIOD_COLUMNS, RECORD_COLUMNS, TIME_COLUMNS

_UPSERT = sql.SQL(
    "INSERT INTO backdrop_records ({columns}) VALUES ({placeholders}) "
    "ON CONFLICT (data_set, id) DO UPDATE SET {updates}"
).format(
    columns=sql.SQL(", ").join(map(sql.Identifier, ("data_set", *RECORD_COLUMNS))),
    placeholders=sql.SQL(", ").join(sql.Placeholder() for _ in range(len(RECORD_COLUMNS) + 1)),
    updates=sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(column))
        for column in (*RECORD_COLUMNS[1:], "seq")
    ),
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
    statement = rollups.delta(spec, "gone", -1, prefix="WITH gone AS (" + _CAP + " RETURNING r.*) ")
    return rollups.apply(conn, statement, [*params, data_set])


def upsert(
    conn: psycopg.Connection[Any], data_set: str, records: list[Record], spec: RollupSpec | None
) -> list[rollups.Key]:
    """Upsert the batch in id order (stable: a repeated id's last version
    wins), moving the rollup from the stored records of its ids to the new."""
    rows = sorted((_row(data_set, record) for record in records), key=lambda row: row[1])
    ids = list(dict.fromkeys(row[1] for row in rows))
    zeros = rollups.by_ids(conn, spec, data_set, ids, -1) if spec else []
    with conn.cursor() as cursor:
        cursor.executemany(_UPSERT, rows)
    if spec:
        rollups.by_ids(conn, spec, data_set, ids, 1)
    return zeros


def _row(data_set: str, record: Record) -> tuple[Any, ...]:
    internal = {"_id", *TIME_COLUMNS, *PERIOD_COLUMNS}
    data = {key: value for key, value in record.items() if key not in internal}
    return (
        data_set,
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
    prefix: LiteralString = "WITH gone AS (" + _DELETE + " RETURNING *) "
    statement = rollups.delta(spec, "gone", -1, prefix=prefix)
    with conn.cursor() as cursor:
        cursor.execute(statement, (data_set, record_id, data_set))
        changed = cursor.fetchall()
    rollups.prune(conn, data_set, [(g, b, d) for g, b, d, n in changed if n == 0])
    return bool(changed)
