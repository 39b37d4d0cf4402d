"""The ingest baseline: the engine's own bulk insert of the same records.

The records are validated and prepared exactly as the write app would
(``prepare_records``) and serialised to the SQLite engine's row shape before
the clock starts; what is timed is ``executemany`` of the engine's own INSERT
into the same table, one ``BEGIN IMMEDIATE … COMMIT`` per 1,000 records, on a
connection opened by the engine (so WAL, ``synchronous`` and the other pragmas
are the engine's). ``engine.save_records`` (the call the write app makes, with
its row building but no HTTP or validation) is timed too, on a fresh file.
"""

# ruff: noqa: S608 - the benchmark SQL is built from our own constants and the
# engine's table names, never from input.

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from backdrop.core.data_sets import Registry
from backdrop.core.periods import PERIOD_KEYS
from backdrop.core.records import prepare_records

# The engine's row shape and INSERT, used on purpose so the
# baseline cannot drift from what the engine really stores.
from backdrop.core.storage.sqlite import SQLiteEngine
from backdrop.core.storage.sqlite.rows import COLUMNS, PERIOD_KEY_SET, micros, table


def _row(record: dict[str, Any]) -> tuple:
    return (
        record["_id"],
        micros(record.get("_timestamp")),
        micros(record["_updated_at"]),
        *[micros(record.get(key)) for key in PERIOD_KEYS],
        orjson.dumps({k: v for k, v in record.items() if k not in PERIOD_KEY_SET}).decode(),
    )


def _prepared(engine: SQLiteEngine, data_set: str, batches: list[list[dict]]) -> list[list[dict]]:
    registry = Registry(engine)
    config, _ = registry.create({"name": data_set})
    now = datetime.now(UTC)
    return [prepare_records(batch, config, now) for batch in batches]


def raw_rate(batches: list[list[dict]], db_path: Path, data_set: str) -> float:
    engine = SQLiteEngine(f"sqlite:///{db_path}")
    try:
        rows = [[_row(r) for r in batch] for batch in _prepared(engine, data_set, batches)]
        insert = (
            f"INSERT OR REPLACE INTO {table(data_set)} ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(COLUMNS))})"
        )
        connection = engine.connections.connection()
        n = sum(len(batch) for batch in rows)
        started = time.perf_counter()
        for batch in rows:
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(insert, batch)
            connection.execute("COMMIT")
        return n / (time.perf_counter() - started)
    finally:
        engine.close()


def engine_rate(batches: list[list[dict]], db_path: Path, data_set: str) -> float:
    engine = SQLiteEngine(f"sqlite:///{db_path}")
    try:
        prepared = _prepared(engine, data_set, batches)
        n = sum(len(batch) for batch in prepared)
        started = time.perf_counter()
        for batch in prepared:
            engine.records.save(data_set, batch)
        return n / (time.perf_counter() - started)
    finally:
        engine.close()


def measure(
    batches: list[list[dict]], db_path: Path, data_set: str, engine: bool = True
) -> dict[str, float]:
    """Records/s of the raw executemany and (``engine``) of engine.save_records,
    each into a fresh file next to ``db_path`` (removed afterwards)."""
    engine_path = db_path.with_name(db_path.stem + "-engine.db")
    try:
        rates = {"raw": raw_rate(batches, db_path, data_set)}
        if engine:
            rates["engine"] = engine_rate(batches, engine_path, data_set)
        return rates
    finally:
        for path in (
            *db_path.parent.glob(db_path.name + "*"),
            *db_path.parent.glob(engine_path.name + "*"),
        ):
            path.unlink()


HISTORY_START = datetime(2022, 1, 1, tzinfo=UTC)
HISTORY_END = datetime(2024, 1, 1, tzinfo=UTC)


def add_history(db_path: Path, data_set: str, n: int, seed: int) -> None:
    """Store n more records dated 2022–2023 (before the benchmark data) through
    the engine, so the data set grows while a 2025 window keeps its records."""
    from benchmarks.generate import records

    engine = SQLiteEngine(f"sqlite:///{db_path}")
    try:
        config = Registry(engine).get(data_set)
        now = datetime.now(UTC)
        batch: list[dict] = []
        for record in records(n, seed + 1, HISTORY_START, HISTORY_END):
            batch.append(record)
            if len(batch) == 1000:
                engine.records.save(data_set, prepare_records(batch, config, now))
                batch = []
        if batch:
            engine.records.save(data_set, prepare_records(batch, config, now))
        engine.connections.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.close()
