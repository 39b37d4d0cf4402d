"""DuckDB as an in-run reference: the same records in typed columns.

The benchmark-only venv (benchmarks/.venv, ``benchmarks/requirements.txt``)
has DuckDB; the project's does not. So the reference runs as a child process
of that venv's Python (``python -m benchmarks.duckdb_ref --records N``): it
generates the same seeded records as the ingest (``benchmarks.generate``),
loads them into one DuckDB table with typed columns (``ts TIMESTAMP`` in UTC,
text dimensions, ``volume BIGINT``, ``duration DOUBLE``), prints ``ready`` and
then answers one JSON request per line on stdin: ``{"op": "answer", "name":
…}`` (the canonical answer, as ``benchmarks.queries`` reduces the API's) or
``{"op": "time", "name": …}`` (seconds for execute + fetchall, timed inside
the child so no pipe latency is counted). ``DuckDB`` below is the parent's
handle. This module imports nothing from ``backdrop``.
"""

# ruff: noqa: S608 - the SQL is built from our own constants, never from input.

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from benchmarks import generate
from benchmarks.queries import PREFIX, WINDOW_END, WINDOW_START, YEAR_END, YEAR_START

COLUMNS = (
    ("seq", "BIGINT"),
    ("ts", "TIMESTAMP"),
    ("channel", "VARCHAR"),
    ("region", "VARCHAR"),
    ("department", "VARCHAR"),
    ("service", "VARCHAR"),
    ("page", "VARCHAR"),
    ("volume", "BIGINT"),
    ("duration", "DOUBLE"),
)


def _t(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.strftime('%Y-%m-%d %H:%M:%S')}'"


def _year(extra: str = "") -> str:
    return f"ts >= {_t(YEAR_START)} AND ts < {_t(YEAR_END)}{extra}"


def _now() -> str:
    return _t(datetime.now(UTC))


SQL = {
    "raw_filter_limit": lambda: (
        "SELECT ts, channel, volume FROM records WHERE channel = 'web' ORDER BY ts, seq LIMIT 100"
    ),
    "group_by": lambda: (
        "SELECT region, count(*) FROM records WHERE region IS NOT NULL GROUP BY 1 ORDER BY 1"
    ),
    "period_week": lambda: (
        f"SELECT date_trunc('week', ts), count(*) FROM records WHERE {_year()} "
        "GROUP BY 1 ORDER BY 1"
    ),
    "period_week_group_sum": lambda: (
        "SELECT channel, date_trunc('week', ts), count(*), sum(volume) FROM records "
        f"WHERE {_year(' AND channel IS NOT NULL')} GROUP BY 1, 2 ORDER BY 1, 2"
    ),
    "prefix_group_by": lambda: (
        f"SELECT department, count(*) FROM records WHERE starts_with(page, '{PREFIX}') "
        "AND department IS NOT NULL GROUP BY 1 ORDER BY 1"
    ),
    "duration_month": lambda: (
        "WITH bounds AS (SELECT date_trunc('month', max(ts)) - INTERVAL 11 MONTH AS lo "
        f"FROM records WHERE ts < {_now()}) "
        "SELECT date_trunc('month', ts), count(*) FROM records, bounds "
        f"WHERE ts >= bounds.lo AND ts < {_now()} GROUP BY 1 ORDER BY 1"
    ),
    "window_7d_group_by": lambda: (
        f"SELECT channel, count(*) FROM records WHERE ts >= {_t(WINDOW_START)} "
        f"AND ts < {_t(WINDOW_END)} AND channel IS NOT NULL GROUP BY 1 ORDER BY 1"
    ),
}


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).isoformat()
    return value


def canonical(name: str, rows: list[tuple]) -> list:
    """Rows as the canonical form of ``benchmarks.queries`` (raw records
    without ``_id``: DuckDB never saw the ids the engine made up)."""
    return sorted([_cell(v) for v in row] for row in rows)


def api_view(name: str, api_canonical: Any) -> list:
    """The API's canonical answer in the form ``canonical`` gives DuckDB's."""
    rows = [list(row) for row in api_canonical]
    if name == "raw_filter_limit":
        rows = [row[1:] for row in rows]
    return sorted(orjson.loads(orjson.dumps(rows)))


def _load(connection: Any, n: int, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="backdrop-duckdb-") as scratch:
        path = Path(scratch) / "records.csv"
        with path.open("w", newline="") as out:
            writer = csv.writer(out)
            for seq, r in enumerate(generate.records(n, seed)):
                writer.writerow(
                    (seq, r["_timestamp"].replace("T", " ").rstrip("Z"), r["channel"],
                     r["region"], r["department"], r["service"], r["page"], r["volume"],
                     r["duration"])
                )  # fmt: skip
        types = ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS)
        connection.execute(
            f"CREATE TABLE records AS SELECT * FROM read_csv('{path}', header = false, "
            f"columns = {{{types}}})"
        )


def serve(n: int, seed: int) -> None:
    import duckdb

    connection = duckdb.connect()
    started = time.perf_counter()
    _load(connection, n, seed)
    print(orjson.dumps({"ready": n, "load_seconds": time.perf_counter() - started}).decode())
    sys.stdout.flush()
    for line in sys.stdin:
        request = orjson.loads(line)
        sql = SQL[request["name"]]()
        started = time.perf_counter()
        rows = connection.execute(sql).fetchall()
        seconds = time.perf_counter() - started
        reply: dict[str, Any] = {"seconds": seconds}
        if request["op"] == "answer":
            reply["answer"] = canonical(request["name"], rows)
        sys.stdout.write(orjson.dumps(reply).decode() + "\n")
        sys.stdout.flush()


class DuckDB:
    """The parent's handle on the reference child (stopped by its own pid)."""

    def __init__(self, bench_bin: Path, n: int, seed: int, root: Path):
        self.n = n
        self.process = subprocess.Popen(
            [str(bench_bin / "python"), "-m", "benchmarks.duckdb_ref", "--records", str(n),
             "--seed", str(seed)],
            cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(root)},
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the DuckDB reference exited before loading the records")
        self.load_seconds = orjson.loads(line)["load_seconds"]
        self.version = subprocess.run(
            [str(bench_bin / "python"), "-c", "import duckdb; print(duckdb.__version__)"],
            capture_output=True, text=True, timeout=60,
        ).stdout.strip()  # fmt: skip

    def _ask(self, op: str, name: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(orjson.dumps({"op": op, "name": name}).decode() + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the DuckDB reference exited on {name}")
        return orjson.loads(line)

    def answer(self, name: str) -> list:
        return self._ask("answer", name)["answer"]

    def time(self, name: str) -> float:
        return float(self._ask("time", name)["seconds"])

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    args = parser.parse_args(argv)
    serve(args.records, args.seed)


if __name__ == "__main__":
    main()
