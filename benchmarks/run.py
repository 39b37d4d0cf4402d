"""Run the benchmarks and write a results table (see benchmarks/README.md).

    .venv/bin/python -m benchmarks.run            # full: 10^4, 10^5, 10^6 records
    .venv/bin/python -m benchmarks.run --smoke    # tiny sizes, for CI

Every figure is a ratio to a baseline measured in the same run on the same
machine: ingest through the write API against the engine's bulk insert of the
same rows; read-API latency against the hand-written SQL on the same file and
against Datasette serving that SQL.
"""

# ruff: noqa: S608 - the benchmark SQL is built from our own constants and the
# engine's table names, never from input.

from __future__ import annotations

import argparse
import os
import platform
import secrets
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
import requests

from benchmarks import bulk, generate
from benchmarks.harness import (
    ROOT,
    BenchmarkSetupError,
    RssSampler,
    app_env,
    ensure_bench_venv,
    start_app,
    start_datasette,
)
from benchmarks.queries import GROWTH, QUERIES, QueryCase, find_schema

DATA_SET = "bench"
BATCH = 1000
TARGETS = {
    "ingest_ratio": 0.5,
    "sql_ratio": 1.5,
    "datasette_ratio": 1.0,
    "growth_ratio": 1.3,
    "rss_mb": 300,
}


@dataclass
class IngestResult:
    n: int
    workers: int
    seconds: float
    peak_rss_total_mb: float
    peak_rss_process_mb: float
    peak_rss_anon_mb: float
    runs: int = 1

    @property
    def rate(self) -> float:
        return self.n / self.seconds


@dataclass
class Timings:
    api: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    datasette: list[float] = field(default_factory=list)


@dataclass
class QueryResult:
    case: QueryCase
    n: int
    timings: Timings
    same_answer: dict[str, bool]
    rows: int
    rows_in_window: int = 0
    label: str = ""


def _keep_export_section(output: Path, text: str) -> str:
    """The "Export" section is written by ``benchmarks.export``; keep it."""
    from benchmarks.export import SECTION

    found = SECTION.search(output.read_text()) if output.exists() else None
    return text.rstrip("\n") + "\n" + found.group(0) if found else text


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- ingest -----------------------------------------------------------------


def _create_data_set(write_url: str, admin_token: str) -> str:
    response = requests.post(
        f"{write_url}/data-sets",
        json={"name": DATA_SET},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["bearer_token"]


def post_batches(url: str, token: str, bodies: list[bytes], clients: int) -> float:
    """POST every body with ``clients`` concurrent connections; seconds taken.
    Raises on the first non-200 answer."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    lock = threading.Lock()
    queue = iter(bodies)
    errors: list[str] = []

    def worker() -> None:
        with requests.Session() as session:
            while not errors:
                with lock:
                    body = next(queue, None)
                if body is None:
                    return
                response = session.post(url, data=body, headers=headers, timeout=120)
                if response.status_code != 200:
                    errors.append(f"{response.status_code}: {response.text[:500]}")

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=3600)
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"write API refused a batch: {errors[0]}")
    return elapsed


def measure_ingest(
    bodies: list[bytes], n: int, workers: int, db_path: Path, logs: Path, wrap=()
) -> IngestResult:
    admin = secrets.token_urlsafe(16)
    env = app_env(f"sqlite:///{db_path}", admin)
    with start_app("write", workers, env, logs / f"write-{n}-{workers}w.log", wrap) as app:
        token = _create_data_set(app.url, admin)
        url = f"{app.url}/data/{DATA_SET}/{DATA_SET}"
        with RssSampler(app.server_pid()) as rss:
            seconds = post_batches(url, token, bodies, clients=workers)
    return IngestResult(
        n,
        workers,
        seconds,
        rss.peak_total_kb / 1024,
        rss.peak_process_kb / 1024,
        rss.peak_anon_kb / 1024,
    )


def _count(db_path: Path) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as connection:
        schema = find_schema(connection, DATA_SET)
        return connection.execute(f'SELECT count(*) FROM "{schema.table}"').fetchone()[0]


# --- queries ----------------------------------------------------------------


def _rows(cursor: sqlite3.Cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class Sides:
    """The three ways of asking one question of one file."""

    def __init__(self, read_url: str, datasette_url: str | None, db_path: Path):
        self.read_url = f"{read_url}/data/{DATA_SET}/{DATA_SET}"
        self.datasette_url = datasette_url and f"{datasette_url}/{db_path.stem}.json"
        self.session = requests.Session()
        self.connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        self.schema = find_schema(self.connection, DATA_SET)

    def close(self) -> None:
        self.session.close()
        self.connection.close()

    def api(self, case: QueryCase) -> bytes:
        response = self.session.get(self.read_url, params=list(case.params), timeout=300)
        if response.status_code != 200:
            raise RuntimeError(f"read API {case.name}: {response.status_code} {response.text}")
        return response.content

    def sql(self, sql: str) -> list[dict]:
        return _rows(self.connection.execute(sql))

    def datasette(self, sql: str) -> bytes:
        response = self.session.get(
            self.datasette_url, params={"sql": sql, "_shape": "array"}, timeout=300
        )
        if response.status_code != 200:
            raise RuntimeError(f"Datasette: {response.status_code} {response.text[:500]}")
        return response.content


def _timed(call, *args) -> float:
    started = time.perf_counter()
    call(*args)
    return time.perf_counter() - started


def measure_query(sides: Sides, case: QueryCase, n: int, reps: int, budget: float) -> QueryResult:
    """Check the three answers agree once, then time the sides round-robin
    (so drift in machine load hits all of them alike): at least 5 rounds,
    at most ``reps``, stopping early once ``budget`` seconds are spent."""
    sql = case.sql(sides.schema)
    api_rows = orjson.loads(sides.api(case))["data"]
    expected = case.from_sql(sides.sql(sql))
    same = {"sql": case.from_api(api_rows) == expected}
    if sides.datasette_url:
        same["datasette"] = case.from_sql(orjson.loads(sides.datasette(sql))) == expected
    timings = Timings()
    started = time.monotonic()
    for round_number in range(reps):
        timings.api.append(_timed(sides.api, case))
        timings.sql.append(_timed(sides.sql, sql))
        if sides.datasette_url:
            timings.datasette.append(_timed(sides.datasette, sql))
        if round_number >= 4 and time.monotonic() - started > budget:
            break
    return QueryResult(case, n, timings, same, len(api_rows))


def measure_queries(
    db_path: Path,
    n: int,
    cases: tuple[QueryCase, ...],
    reps: int,
    budget: float,
    bench_bin: Path | None,
    logs: Path,
) -> list[QueryResult]:
    admin = secrets.token_urlsafe(16)
    env = app_env(f"sqlite:///{db_path}", admin)
    with start_app("read", 2, env, logs / f"read-{n}.log") as read:
        datasette = (
            start_datasette(bench_bin, db_path, logs / f"datasette-{n}.log") if bench_bin else None
        )
        try:
            sides = Sides(read.url, datasette and datasette.url, db_path)
            try:
                for case in cases:  # warm the page cache and both servers
                    sides.api(case)
                    sides.sql(case.sql(sides.schema))
                return [measure_query(sides, case, n, reps, budget) for case in cases]
            finally:
                sides.close()
        finally:
            if datasette:
                datasette.stop()


# --- report -----------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def machine_facts() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        memory_gb = f"{int(memory) / 1024 / 1024:.1f} GiB"
    except (OSError, IndexError, ValueError):
        memory_gb = "unknown"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "backdrop"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    changed = sorted(line[3:] for line in dirty if line.strip())
    tree = f"uncommitted changes in {', '.join(changed)}" if changed else "clean"
    return [
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; git commit {commit or '?'}; "
        f"backdrop/ working tree: {tree}",
        f"- CPU: {cpu}, {os.cpu_count()} cores visible; memory {memory_gb}",
        f"- {platform.platform()}; Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}",
    ]


def _ingest_section(
    lines: list[str],
    ingest: list[IngestResult],
    bulk_rates: dict[int, dict[str, float]],
    verdicts: list[tuple[str, str, bool]],
) -> None:
    lines += ["## Ingest", ""]
    lines.append(
        "Records/s through `POST /data/<group>/<type>` under gunicorn (batches of "
        f"{BATCH}, as many concurrent clients as workers) against a bulk insert of the "
        "same records (already prepared and serialised to the engine's row shape) with "
        "`executemany` into the same table, one transaction per 1,000, on the engine's "
        "own connection settings. `engine.save_records` is the engine call the write "
        "app makes, timed in-process (no HTTP, no validation), for reference."
    )
    lines.append("")
    lines.append(
        "| records | workers | runs | API rec/s | raw executemany rec/s | ratio | "
        "engine.save_records rec/s | peak RSS, all processes (MB) | "
        "of which anonymous (MB) | peak RSS, largest process (MB) |"
    )
    lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for result in ingest:
        raw = bulk_rates[result.n]
        ratio = result.rate / raw["raw"]
        lines.append(
            f"| {result.n:,} | {result.workers} | {result.runs} | {result.rate:,.0f} | "
            f"{raw['raw']:,.0f} | "
            f"{ratio:.2f} | {raw['engine']:,.0f} | {result.peak_rss_total_mb:.0f} | "
            f"{result.peak_rss_anon_mb:.0f} | {result.peak_rss_process_mb:.0f} |"
        )
        verdicts.append(
            (
                f"ingest {result.n:,} records, {result.workers} worker(s): ratio ≥ "
                f"{TARGETS['ingest_ratio']}",
                f"{ratio:.2f}",
                ratio >= TARGETS["ingest_ratio"],
            )
        )
    largest = max((r for r in ingest), key=lambda r: (r.n, r.peak_rss_total_mb), default=None)
    if largest:
        verdicts.append(
            (
                f"write app peak RSS during the {largest.n:,} ingest < {TARGETS['rss_mb']} MB "
                "(all gunicorn processes together)",
                f"{largest.peak_rss_total_mb:.0f} MB ({largest.peak_rss_anon_mb:.0f} anonymous)",
                largest.peak_rss_total_mb < TARGETS["rss_mb"],
            )
        )
    lines.append("")


def report(
    args: argparse.Namespace,
    ingest: list[IngestResult],
    bulk_rates: dict[int, dict[str, float]],
    queries: list[QueryResult],
    growth: list[QueryResult],
    datasette_version: str,
) -> str:
    lines = ["# Benchmark results", ""]
    lines.append(
        "Medians of repeated runs; every ratio divides by a baseline measured in the "
        "same run on the same machine. Targets are for SQLite (issue 6)."
    )
    lines.append("")
    verdicts: list[tuple[str, str, bool]] = []

    if ingest:
        _ingest_section(lines, ingest, bulk_rates, verdicts)

    if queries:
        n = queries[0].n
        lines += [f"## Queries over {n:,} records", ""]
        lines.append(
            "Latency in ms (p50 / p95) of the read API, of the hand-written SQL run "
            "directly on the same file (Python `sqlite3`, execute + fetchall), and of "
            f"Datasette {datasette_version} serving that SQL over HTTP from the same file "
            "(`?sql=…&_shape=array`). Ratios are of medians. ✓ = the three answers were "
            "checked equal."
        )
        lines.append("")
        lines.append(
            "| query | rows | runs | API p50 / p95 | SQL p50 / p95 | Datasette p50 / p95 | "
            "API ÷ SQL | API − SQL (ms) | API ÷ Datasette | same answer |"
        )
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for result in queries:
            t = result.timings
            same = " ".join(
                f"{side} {'✓' if ok else '✗ MISMATCH'}" for side, ok in result.same_answer.items()
            )
            sql_ratio = p50(t.api) / p50(t.sql)
            lines.append(
                f"| {result.case.description} | {result.rows} | {len(t.api)} | "
                f"{_ms(p50(t.api))} / {_ms(p95(t.api))} | {_ms(p50(t.sql))} / {_ms(p95(t.sql))} | "
                + (
                    f"{_ms(p50(t.datasette))} / {_ms(p95(t.datasette))} | "
                    if t.datasette
                    else "not run | "
                )
                + f"{sql_ratio:.2f} | {_ms(p50(t.api) - p50(t.sql))} | "
                + (f"{_ratio(p50(t.api), p50(t.datasette))} | " if t.datasette else "n/a | ")
                + f"{same} |"
            )
            verdicts.append(
                (
                    f"{result.case.name}: API ≤ {TARGETS['sql_ratio']}× raw SQL",
                    f"{sql_ratio:.2f}",
                    sql_ratio <= TARGETS["sql_ratio"] and all(result.same_answer.values()),
                )
            )
            if t.datasette:
                ds_ratio = p50(t.api) / p50(t.datasette)
                verdicts.append(
                    (
                        f"{result.case.name}: API ≤ {TARGETS['datasette_ratio']}× Datasette",
                        f"{ds_ratio:.2f}",
                        ds_ratio <= TARGETS["datasette_ratio"],
                    )
                )
        lines.append("")

    if growth:
        lines += ["## Growth: one 7-day-window grouped query as the data set grows", ""]
        lines.append(
            f"`{'&'.join(f'{k}={v}' for k, v in GROWTH.params)}`. The records in the window "
            "grow with the data set (the data always spans the same two years), so the "
            "raw-SQL column shows how much of any growth the database itself has. The "
            "control row grows the second-largest data set to the largest size with records "
            "dated 2022–2023 only (stored through `engine.save_records`), so the window "
            "holds the same records in a 10× larger data set."
        )
        lines.append("")
        lines.append(
            "| records | records in window | API p50 / p95 (ms) | SQL p50 (ms) | "
            "Datasette p50 (ms) | API ÷ SQL |"
        )
        lines.append("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for result in growth:
            t = result.timings
            lines.append(
                f"| {result.label} | {result.rows_in_window:,} | {_ms(p50(t.api))} / "
                f"{_ms(p95(t.api))} | {_ms(p50(t.sql))} | "
                f"{_ms(p50(t.datasette)) if t.datasette else 'not run'} | "
                f"{_ratio(p50(t.api), p50(t.sql))} |"
            )
        sized = [r for r in growth if "older" not in r.label]
        control = [r for r in growth if "older" in r.label]
        if control and len(sized) >= 2:
            small, grown = sized[-2], control[0]
            lines.append("")
            lines.append(
                f"Control: the {small.n:,}-record data set grown to {grown.n:,} with older "
                f"records only (same {grown.rows_in_window:,} records in the window): API time "
                f"÷ before: **{p50(grown.timings.api) / p50(small.timings.api):.2f}** "
                f"(raw SQL: {p50(grown.timings.sql) / p50(small.timings.sql):.2f})."
            )
        if len(sized) >= 2:
            small, big = sized[-2], sized[-1]
            ratio = p50(big.timings.api) / p50(small.timings.api)
            sql_ratio = p50(big.timings.sql) / p50(small.timings.sql)
            lines.append("")
            lines.append(
                f"API time at {big.n:,} ÷ at {small.n:,}: **{ratio:.2f}** "
                f"(raw SQL: {sql_ratio:.2f})."
            )
            verdicts.append(
                (
                    f"7-day window: time at {big.n:,} ≤ {TARGETS['growth_ratio']}× time at "
                    f"{small.n:,}",
                    f"{ratio:.2f}",
                    ratio <= TARGETS["growth_ratio"],
                )
            )
        lines.append("")

    lines += ["## Targets", "", "| target | measured | |", "| --- | ---: | --- |"]
    for name, measured, ok in verdicts:
        lines.append(f"| {name} | {measured} | {_verdict(ok)} |")
    lines += ["", "## How this was run", ""]
    lines += machine_facts()
    command = shlex.join([".venv/bin/python", "-m", "benchmarks.run", *sys.argv[1:]])
    lines.append(f"- command: `{command}`")
    if args.app_root:
        lines.append(f"- apps served from `{args.app_root}` (not this checkout)")
    lines.append(
        f"- data: `benchmarks/generate.py`, seed {args.seed}; the apps ran under gunicorn on "
        "127.0.0.1 (read app: 2 workers) against a fresh SQLite file per ingest run; "
        "Datasette from benchmarks/.venv"
    )
    lines.append("")
    return "\n".join(lines)


# --- main -------------------------------------------------------------------


def _datasette_version(bench_bin: Path | None) -> str:
    if not bench_bin:
        return "(not run)"
    out = subprocess.run(
        [str(bench_bin / "datasette"), "--version"], capture_output=True, text=True, timeout=60
    )
    return out.stdout.strip().split()[-1] if out.returncode == 0 else "?"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Backdrop ingest and query benchmarks")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, few runs (CI)")
    parser.add_argument("--sizes", help="comma-separated record counts (default 10^4,10^5,10^6)")
    parser.add_argument("--workers", default="1,2", help="write-app worker counts to ingest with")
    parser.add_argument("--reps", type=int, help="max timed rounds per query")
    parser.add_argument(
        "--ingest-repeats", type=int, help="ingest runs per size (default 3 up to 10^5, else 1)"
    )
    parser.add_argument("--budget", type=float, help="seconds per query before stopping early")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--no-datasette", action="store_true", help="skip the Datasette side")
    parser.add_argument("--no-queries", action="store_true", help="ingest only")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md", help="results file"
    )
    parser.add_argument("--keep", type=Path, help="keep the databases in this directory")
    parser.add_argument(
        "--reuse",
        type=Path,
        help="a --keep directory: sizes whose database is there skip ingest (queries only)",
    )
    parser.add_argument(
        "--app-root",
        type=Path,
        help="run the read and write apps from this checkout (e.g. a copy with a candidate "
        "fix); baselines still use this one",
    )
    args = parser.parse_args(argv)
    if args.app_root:
        os.environ["BENCH_APP_ROOT"] = str(args.app_root.resolve())
    if args.smoke:
        sizes, reps, budget = "1000,3000", 5, 5.0
    else:
        sizes, reps, budget = "10000,100000,1000000", 30, 60.0
    args.sizes = [int(s) for s in (args.sizes or sizes).split(",")]
    args.workers = [int(w) for w in args.workers.split(",")]
    args.reps = args.reps or reps
    args.budget = args.budget or budget
    return args


def ingest_size(
    args: argparse.Namespace,
    n: int,
    work: Path,
    logs: Path,
    ingest: list[IngestResult],
    bulk_rates: dict[int, dict[str, float]],
) -> Path:
    """Bulk baseline and API ingest of n records; returns the file of the last run."""
    print(f"== {n:,} records: generating", flush=True)
    batches = generate.batches(n, BATCH, args.seed)
    bodies = [orjson.dumps(batch) for batch in batches]
    repeats = args.ingest_repeats or (3 if n <= 100_000 else 1)
    bulk_runs: list[dict[str, float]] = []
    api_runs: dict[int, list[IngestResult]] = {workers: [] for workers in args.workers}
    db_path = None
    for repeat in range(repeats):
        # Baseline and API runs alternate, so machine-load drift hits both alike.
        bulk_runs.append(bulk.measure(batches, work / f"bulk-{n}.db", DATA_SET))
        print(
            f"   raw executemany {bulk_runs[-1]['raw']:,.0f} rec/s, "
            f"engine.save_records {bulk_runs[-1]['engine']:,.0f} rec/s",
            flush=True,
        )
        for workers in args.workers:
            db_path = work / f"bench-{n}-{workers}w.db"
            for path in work.glob(db_path.name + "*"):
                path.unlink()
            result = measure_ingest(bodies, n, workers, db_path, logs)
            stored = _count(db_path)
            if stored != n:
                raise RuntimeError(f"{n} records posted but {stored} stored")
            api_runs[workers].append(result)
            print(
                f"   API, {workers} worker(s): {result.rate:,.0f} rec/s, peak RSS "
                f"{result.peak_rss_total_mb:.0f} MB ({result.peak_rss_anon_mb:.0f} anonymous)",
                flush=True,
            )
        if repeat < repeats - 1:
            for path in work.glob(f"bench-{n}-*"):
                path.unlink()
    bulk_rates[n] = {
        key: statistics.median(run[key] for run in bulk_runs) for key in ("raw", "engine")
    }
    for workers, runs in api_runs.items():
        ingest.append(
            IngestResult(
                n,
                workers,
                statistics.median(run.seconds for run in runs),
                max(run.peak_rss_total_mb for run in runs),
                max(run.peak_rss_process_mb for run in runs),
                max(run.peak_rss_anon_mb for run in runs),
                runs=len(runs),
            )
        )
    del batches, bodies
    return db_path


def _copy_database(source: Path, target: Path) -> Path:
    """A standalone copy of a SQLite file (WAL checkpointed first)."""
    connection = sqlite3.connect(source)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    shutil.copyfile(source, target)
    return target


def _growth_with_history(
    args: argparse.Namespace, history: Path, work: Path, logs: Path, bench_bin: Path | None
) -> QueryResult:
    """The 7-day-window query on the second-largest data set grown to the
    largest size with older records only: same matches, 10× the data set."""
    small, big = sorted(args.sizes)[-2:]
    print(f"== {small:,} records + {big - small:,} older ones (growth control)", flush=True)
    bulk.add_history(history, DATA_SET, big - small, args.seed)
    (result,) = measure_queries(history, big, (GROWTH,), args.reps, args.budget, bench_bin, logs)
    with sqlite3.connect(f"file:{history}?mode=ro", uri=True) as connection:
        schema = find_schema(connection, DATA_SET)
        result.rows_in_window = sum(
            row["_count"] for row in _rows(connection.execute(GROWTH.sql(schema)))
        )
    result.label = f"{small:,} + {big - small:,} older"
    print(f"   {GROWTH.name}: API {_ms(p50(result.timings.api))} ms", flush=True)
    for path in work.glob("history.db*"):
        path.unlink()
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench_bin = None
    if not args.no_datasette:
        try:
            bench_bin = ensure_bench_venv()
        except BenchmarkSetupError as error:
            print(f"benchmark venv: {error}", file=sys.stderr)
            return 2
    datasette_version = _datasette_version(bench_bin)
    ingest: list[IngestResult] = []
    bulk_rates: dict[int, dict[str, float]] = {}
    queries: list[QueryResult] = []
    growth: list[QueryResult] = []
    with tempfile.TemporaryDirectory(prefix="backdrop-bench-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        logs = work / "logs"
        logs.mkdir(exist_ok=True)
        for n in sorted(args.sizes):
            reused = args.reuse and args.reuse / f"bench-{n}-{args.workers[-1]}w.db"
            if reused and reused.exists():
                print(f"== {n:,} records: reusing {reused}", flush=True)
                db_path = reused
            else:
                db_path = ingest_size(args, n, work, logs, ingest, bulk_rates)
            if args.no_queries:
                continue
            largest = n == max(args.sizes)
            cases = (*QUERIES, GROWTH) if largest else (GROWTH,)
            print(f"   queries: {', '.join(c.name for c in cases)}", flush=True)
            results = measure_queries(db_path, n, cases, args.reps, args.budget, bench_bin, logs)
            with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as connection:
                schema = find_schema(connection, DATA_SET)
                in_window = sum(
                    row["_count"] for row in _rows(connection.execute(GROWTH.sql(schema)))
                )
            for result in results:
                if result.case is GROWTH:
                    result.rows_in_window = in_window
                    result.label = f"{n:,}"
                    growth.append(result)
                else:
                    queries.append(result)
            for result in results:
                t = result.timings
                print(
                    f"   {result.case.name}: API {_ms(p50(t.api))} ms, SQL {_ms(p50(t.sql))} ms"
                    + (f", Datasette {_ms(p50(t.datasette))} ms" if t.datasette else "")
                    + ("" if all(result.same_answer.values()) else "  ANSWERS DIFFER"),
                    flush=True,
                )
            if len(args.sizes) >= 2 and n == sorted(args.sizes)[-2]:
                history = _copy_database(db_path, work / "history.db")
            if not args.keep and not (reused and reused.exists()):
                for path in work.glob(f"bench-{n}-*"):
                    path.unlink()
        if len(args.sizes) >= 2 and not args.no_queries:
            growth.append(_growth_with_history(args, history, work, logs, bench_bin))
    text = report(args, ingest, bulk_rates, queries, growth, datasette_version)
    args.output.write_text(_keep_export_section(args.output, text))
    print(f"wrote {args.output}")
    mismatches = [r.case.name for r in (*queries, *growth) if not all(r.same_answer.values())]
    if mismatches:
        print(f"answers differ for: {', '.join(mismatches)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
