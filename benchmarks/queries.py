"""The benchmark queries: each as read-API parameters and as the SQL a
competent person would write by hand for the same SQLite schema.

The SQL reads the engine's table directly: ``json_extract`` on the ``data``
column for record fields, the ``_timestamp`` column (epoch microseconds,
indexed) for time ranges and the period-key columns (``_week_start_at`` …)
for time buckets. Table and column names are looked up in the file, not
assumed. Both answers are reduced to one canonical form so a run can check,
once per query, that the API and the SQL (and Datasette) answer the same.
"""

# ruff: noqa: S608 - the benchmark SQL is built from our own constants and the
# engine's table names, never from input.

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

# One year of whole weeks inside the generated data (both Mondays).
YEAR_START = datetime(2024, 12, 30, tzinfo=UTC)
YEAR_END = datetime(2025, 12, 29, tzinfo=UTC)
# The growth window: seven days (Monday to Monday).
WINDOW_START = datetime(2025, 6, 2, tzinfo=UTC)
WINDOW_END = datetime(2025, 6, 9, tzinfo=UTC)
PREFIX = "/section-01/"


def micros(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000


def iso(value: Any) -> str:
    """A period start from SQL (epoch µs, or text) in the API's ISO form."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1_000_000, UTC).isoformat()
    return datetime.fromisoformat(str(value)).astimezone(UTC).isoformat()


def api_time(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


@dataclass(frozen=True)
class Schema:
    """Where the engine keeps a data set's records in the SQLite file."""

    table: str
    columns: tuple[str, ...]

    def period_column(self, period: str) -> str:
        for candidate in (f"_{period}_start_at", f"{period}_start_at", f"_{period}"):
            if candidate in self.columns:
                return candidate
        raise LookupError(f"no {period} period-key column in {self.table}: {self.columns}")

    @property
    def data_column(self) -> str:
        for candidate in ("data", "record", "document"):
            if candidate in self.columns:
                return candidate
        raise LookupError(f"no JSON data column in {self.table}: {self.columns}")


def find_schema(connection: sqlite3.Connection, data_set: str) -> Schema:
    """The records table of ``data_set``: the table whose columns include
    ``_timestamp`` and whose name mentions the data set."""
    names = [
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    candidates = []
    for name in names:
        columns = tuple(row[1] for row in connection.execute(f'PRAGMA table_info("{name}")'))
        if "_timestamp" in columns:
            candidates.append(Schema(name, columns))
    named = [c for c in candidates if data_set.replace("-", "_") in c.table.replace("-", "_")]
    if len(named) == 1:
        return named[0]
    if len(candidates) == 1:
        return candidates[0]
    raise LookupError(f"no records table for {data_set!r} among {names}")


Canonical = Any


@dataclass(frozen=True)
class QueryCase:
    name: str
    description: str
    params: tuple[tuple[str, str], ...]
    sql: Callable[[Schema], str]
    from_api: Callable[[list[dict]], Canonical]
    from_sql: Callable[[list[dict]], Canonical]


def _j(schema: Schema, field: str) -> str:
    return f"json_extract({schema.data_column}, '$.{field}')"


# --- raw filter + limit ---------------------------------------------------


def _raw_sql(s: Schema) -> str:
    return (
        f'SELECT _id, _timestamp, {s.data_column} AS data FROM "{s.table}" '
        f"WHERE {_j(s, 'channel')} = 'web' ORDER BY _timestamp, _id LIMIT 100"
    )


def _raw_api(rows: list[dict]) -> Canonical:
    return [(r["_id"], api_time(r["_timestamp"]), r["channel"], r["volume"]) for r in rows]


def _raw_from_sql(rows: list[dict]) -> Canonical:
    out = []
    for row in rows:
        data = orjson.loads(row["data"])
        out.append((row["_id"], iso(row["_timestamp"]), data["channel"], data["volume"]))
    return out


# --- group_by one field ---------------------------------------------------


def _group_sql(s: Schema, field: str, where: str = "") -> str:
    return (
        f"SELECT {_j(s, field)} AS {field}, count(*) AS _count "
        f'FROM "{s.table}" WHERE {_j(s, field)} IS NOT NULL{where} '
        f"GROUP BY 1 ORDER BY 1"
    )


def _counts_by(field: str) -> Callable[[list[dict]], Canonical]:
    return lambda rows: sorted((r[field], r["_count"]) for r in rows)


# --- period buckets -------------------------------------------------------


def _period_sql(s: Schema, period: str, start: datetime, end: datetime) -> str:
    column = s.period_column(period)
    return (
        f'SELECT {column} AS _start_at, count(*) AS _count FROM "{s.table}" '
        f"WHERE _timestamp >= {micros(start)} AND _timestamp < {micros(end)} "
        f"GROUP BY 1 ORDER BY 1"
    )


def _periods_api(rows: list[dict]) -> Canonical:
    return sorted((api_time(r["_start_at"]), r["_count"]) for r in rows if r["_count"])


def _periods_sql(rows: list[dict]) -> Canonical:
    return sorted((iso(r["_start_at"]), r["_count"]) for r in rows)


# --- period + group_by + collect sum ---------------------------------------


def _nested_sql(s: Schema) -> str:
    column = s.period_column("week")
    return (
        f"SELECT {_j(s, 'channel')} AS channel, {column} AS _start_at, count(*) AS _count, "
        f"sum({_j(s, 'volume')}) AS volume_sum "
        f'FROM "{s.table}" WHERE _timestamp >= {micros(YEAR_START)} '
        f"AND _timestamp < {micros(YEAR_END)} AND {_j(s, 'channel')} IS NOT NULL "
        f"GROUP BY 1, 2 ORDER BY 1, 2"
    )


def _nested_api(rows: list[dict]) -> Canonical:
    return sorted(
        (group["channel"], api_time(v["_start_at"]), v["_count"], v["volume:sum"])
        for group in rows
        for v in group["values"]
        if v["_count"]
    )


def _nested_from_sql(rows: list[dict]) -> Canonical:
    return sorted((r["channel"], iso(r["_start_at"]), r["_count"], r["volume_sum"]) for r in rows)


# --- duration=12, period=month (relative to now) ----------------------------


def _duration_sql(s: Schema) -> str:
    """The last 12 months ending with the newest month that has data (SPEC 5.3
    slides an empty trailing range back to the data), bounds in SQL."""
    column = s.period_column("month")
    now = micros(datetime.now(UTC))
    return (
        f"WITH bounds AS (SELECT CAST(strftime('%s', max(_timestamp) / 1000000, 'unixepoch', "
        f"'start of month', '-11 months') AS INTEGER) * 1000000 AS lo "
        f'FROM "{s.table}" WHERE _timestamp < {now}) '
        f'SELECT {column} AS _start_at, count(*) AS _count FROM "{s.table}", bounds '
        f"WHERE _timestamp >= bounds.lo AND _timestamp < {now} GROUP BY 1 ORDER BY 1"
    )


def _window_params() -> tuple[tuple[str, str], ...]:
    return (
        ("group_by", "channel"),
        ("start_at", WINDOW_START.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("end_at", WINDOW_END.strftime("%Y-%m-%dT%H:%M:%SZ")),
    )


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


QUERIES: tuple[QueryCase, ...] = (
    QueryCase(
        "raw_filter_limit",
        "raw records: filter_by=channel:web, limit=100",
        (("filter_by", "channel:web"), ("limit", "100")),
        _raw_sql,
        _raw_api,
        _raw_from_sql,
    ),
    QueryCase(
        "group_by",
        "group_by=region (all records)",
        (("group_by", "region"),),
        lambda s: _group_sql(s, "region"),
        _counts_by("region"),
        _counts_by("region"),
    ),
    QueryCase(
        "period_week",
        "period=week over one year (52 weeks)",
        (("period", "week"), ("start_at", _z(YEAR_START)), ("end_at", _z(YEAR_END))),
        lambda s: _period_sql(s, "week", YEAR_START, YEAR_END),
        _periods_api,
        _periods_sql,
    ),
    QueryCase(
        "period_week_group_sum",
        "period=week over one year, group_by=channel, collect=volume:sum",
        (
            ("period", "week"),
            ("start_at", _z(YEAR_START)),
            ("end_at", _z(YEAR_END)),
            ("group_by", "channel"),
            ("collect", "volume:sum"),
        ),
        _nested_sql,
        _nested_api,
        _nested_from_sql,
    ),
    QueryCase(
        "prefix_group_by",
        f"filter_by_prefix=page:{PREFIX}, group_by=department",
        (("filter_by_prefix", f"page:{PREFIX}"), ("group_by", "department")),
        lambda s: _group_sql(
            s, "department", f" AND substr({_j(s, 'page')}, 1, {len(PREFIX)}) = '{PREFIX}'"
        ),
        _counts_by("department"),
        _counts_by("department"),
    ),
    QueryCase(
        "duration_month",
        "period=month, duration=12 (relative to now; slides back to the data)",
        (("period", "month"), ("duration", "12")),
        _duration_sql,
        _periods_api,
        _periods_sql,
    ),
)

GROWTH = QueryCase(
    "window_7d_group_by",
    "7-day window (start_at/end_at), group_by=channel",
    _window_params(),
    lambda s: (
        f'SELECT {_j(s, "channel")} AS channel, count(*) AS _count FROM "{s.table}" '
        f"WHERE _timestamp >= {micros(WINDOW_START)} AND _timestamp < {micros(WINDOW_END)} "
        f"AND {_j(s, 'channel')} IS NOT NULL GROUP BY 1 ORDER BY 1"
    ),
    _counts_by("channel"),
    _counts_by("channel"),
)
