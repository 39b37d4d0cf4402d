"""PostgreSQL for the benchmarks: scratch databases, the bulk baseline and the
hand-written SQL of the benchmark queries on the engine's ``backdrop_records``.

Every database made here is named ``backdrop_bench…`` and dropped again by
this module (``PostgresBackend.close``); nothing else on the server is touched.
The baseline inserts rows prepared and converted to the engine's columns
before the clock starts with a plain ``INSERT … ON CONFLICT DO UPDATE``,
``executemany`` on the engine's pooled connection (its session settings),
one transaction per 1,000 records. The SQL reads
``data`` (JSONB) with ``->>`` and the ``timestamp`` / period-start columns, as
someone writing it by hand against that table would.
"""

# ruff: noqa: S608 - the benchmark SQL is built from our own constants, never from input.

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from backdrop.core.data_sets import Registry
from backdrop.core.records import prepare_records
from backdrop.core.storage.postgres import PostgresEngine
from backdrop.core.storage.postgres.schema import PERIOD_COLUMNS, RECORD_COLUMNS, TIME_COLUMNS
from benchmarks.backends import load_through_engine
from benchmarks.queries import (
    GROWTH,
    PREFIX,
    WINDOW_END,
    WINDOW_START,
    YEAR_END,
    YEAR_START,
    QueryCase,
)

# The plain upsert a bulk loader would write against the engine's table and columns.
_UPSERT = (
    f"INSERT INTO backdrop_records (data_set, {', '.join(RECORD_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * (len(RECORD_COLUMNS) + 1))}) "
    "ON CONFLICT (data_set, id) DO UPDATE "
    f"SET {', '.join(f'{c} = EXCLUDED.{c}' for c in RECORD_COLUMNS[1:])}"
)
_INTERNAL = {"_id", *TIME_COLUMNS, *PERIOD_COLUMNS}


def _row(data_set: str, record: dict) -> tuple:
    """A prepared record as the engine's columns: id, times, period starts, JSONB rest."""
    data = {key: value for key, value in record.items() if key not in _INTERNAL}
    return (
        data_set,
        record["_id"],
        *(record.get(key) for key in TIME_COLUMNS),
        *(record.get(key) for key in PERIOD_COLUMNS),
        Jsonb(data),
    )


DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PREFIX_NAME = "backdrop_bench"


def _t(moment: datetime) -> str:
    return f"'{moment.isoformat()}'::timestamptz"


def _in(extra: str = "") -> str:
    return f"data_set = 'bench'{extra}"


_MICROS = "(extract(epoch FROM timestamp) * 1000000)::bigint"
_YEAR = f"timestamp >= {_t(YEAR_START)} AND timestamp < {_t(YEAR_END)}"

SQL = {
    "raw_filter_limit": lambda: (
        f"SELECT id AS _id, {_MICROS} AS _timestamp, data::text AS data FROM backdrop_records "
        f"WHERE {_in()} AND data->>'channel' = 'web' ORDER BY timestamp NULLS FIRST, id LIMIT 100"
    ),
    "group_by": lambda: (
        "SELECT data->>'region' AS region, count(*) AS _count FROM backdrop_records "
        f"WHERE {_in()} AND data->>'region' IS NOT NULL GROUP BY 1 ORDER BY 1"
    ),
    "period_week": lambda: (
        "SELECT week_start_at AS _start_at, count(*) AS _count FROM backdrop_records "
        f"WHERE {_in()} AND {_YEAR} GROUP BY 1 ORDER BY 1"
    ),
    "period_week_group_sum": lambda: (
        "SELECT data->>'channel' AS channel, week_start_at AS _start_at, count(*) AS _count, "
        "sum((data->>'volume')::bigint)::bigint AS volume_sum FROM backdrop_records "
        f"WHERE {_in()} AND {_YEAR} AND data->>'channel' IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
    ),
    "prefix_group_by": lambda: (
        "SELECT data->>'department' AS department, count(*) AS _count FROM backdrop_records "
        f"WHERE {_in()} AND starts_with(data->>'page', '{PREFIX}') "
        "AND data->>'department' IS NOT NULL GROUP BY 1 ORDER BY 1"
    ),
    "duration_month": lambda: (
        "WITH bounds AS (SELECT date_trunc('month', max(timestamp)) - interval '11 months' AS lo "
        f"FROM backdrop_records WHERE {_in()} AND timestamp < now()) "
        "SELECT month_start_at AS _start_at, count(*) AS _count FROM backdrop_records, bounds "
        f"WHERE {_in()} AND timestamp >= bounds.lo AND timestamp < now() GROUP BY 1 ORDER BY 1"
    ),
    GROWTH.name: lambda: (
        "SELECT data->>'channel' AS channel, count(*) AS _count FROM backdrop_records "
        f"WHERE {_in()} AND timestamp >= {_t(WINDOW_START)} AND timestamp < {_t(WINDOW_END)} "
        "AND data->>'channel' IS NOT NULL GROUP BY 1 ORDER BY 1"
    ),
}


def with_database(url: str, database: str) -> str:
    return make_conninfo("", **{**conninfo_to_dict(url), "dbname": database})


def url_of(conninfo: str) -> str:
    """A ``postgresql://`` URL (what BACKDROP_DATABASE_URL takes) for a conninfo."""
    params = conninfo_to_dict(conninfo)
    user = params.get("user", "postgres")
    host, port = params.get("host", "127.0.0.1"), params.get("port", "5432")
    return f"postgresql://{user}@{host}:{port}/{params['dbname']}"


class PgSqlSide:
    """The hand-written SQL on one database, on a plain autocommit connection."""

    def __init__(self, url: str):
        self.connection = psycopg.connect(url, autocommit=True, row_factory=dict_row)
        self.connection.execute("SET TIME ZONE 'UTC'")

    def sql(self, case: QueryCase) -> str:
        return SQL[case.name]()

    def run(self, sql: str) -> list[dict]:
        return self.connection.execute(sql).fetchall()

    def close(self) -> None:
        self.connection.close()


class PostgresBackend:
    """Scratch databases on one server for one run."""

    key = "postgres"
    label = "PostgreSQL"

    def __init__(self, server_url: str = DEFAULT_URL):
        self.server_url = server_url
        self.made: list[str] = []
        with psycopg.connect(server_url, autocommit=True) as connection:
            self.version = connection.execute("SHOW server_version").fetchone()[0]

    def fresh(self, label: str) -> str:
        """A new empty database (any older one of that name dropped first)."""
        name = f"{PREFIX_NAME}_{re.sub(r'[^a-z0-9_]', '_', label.lower())}"[:63]
        with psycopg.connect(self.server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        if name not in self.made:
            self.made.append(name)
        return url_of(with_database(self.server_url, name))

    def discard(self, url: str) -> None:
        name = conninfo_to_dict(url)["dbname"]
        if not name.startswith(PREFIX_NAME):
            raise ValueError(f"not a benchmark database: {name}")
        with psycopg.connect(self.server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.made:
            self.made.remove(name)

    def close(self) -> None:
        for name in list(self.made):
            self.discard(url_of(with_database(self.server_url, name)))

    def count(self, url: str, data_set: str) -> int:
        with psycopg.connect(url) as connection:
            row = connection.execute(
                "SELECT count(*) FROM backdrop_records WHERE data_set = %s", (data_set,)
            ).fetchone()
        return int(row[0]) if row else 0

    def settle(self, url: str) -> None:
        """VACUUM ANALYZE after a bulk load, so both the API and the SQL get
        the planner statistics autovacuum would have made by then."""
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE backdrop_records")

    def sql_side(self, url: str) -> PgSqlSide:
        return PgSqlSide(url)

    def datasette_file(self, url: str) -> None:
        return None

    def bulk(
        self, batches: list[list[dict]], data_set: str, engine: bool = True
    ) -> dict[str, float]:
        """Records/s of the raw executemany and (``engine``) of
        engine.save_records, each into a fresh database (dropped afterwards)."""
        rates = {}
        for side in ("raw", "engine") if engine else ("raw",):
            url = self.fresh(f"bulk_{side}")
            try:
                rates[side] = _bulk_rate(url, batches, data_set, raw=side == "raw")
            finally:
                self.discard(url)
        return rates

    def load(self, url: str, batches: Any, data_set: str) -> None:
        """Store records through ``engine.records.save`` (the 10^7 growth data)."""
        load_through_engine(PostgresEngine(url), batches, data_set)


def _bulk_rate(url: str, batches: list[list[dict]], data_set: str, *, raw: bool) -> float:
    engine = PostgresEngine(url)
    try:
        config, _ = Registry(engine).create({"name": data_set})
        now = datetime.now(UTC)
        prepared = [prepare_records(batch, config, now) for batch in batches]
        n = sum(len(batch) for batch in prepared)
        if not raw:
            started = time.perf_counter()
            for batch in prepared:
                engine.records.save(data_set, batch)
            return n / (time.perf_counter() - started)
        rows = [
            sorted((_row(data_set, r) for r in batch), key=lambda r: r[1]) for batch in prepared
        ]
        connections = engine._connections  # the engine's own pool and session settings
        started = time.perf_counter()
        for batch_rows in rows:
            with connections.connection() as conn, conn.cursor() as cursor:
                cursor.executemany(_UPSERT, batch_rows)
        return n / (time.perf_counter() - started)
    finally:
        engine.close()
