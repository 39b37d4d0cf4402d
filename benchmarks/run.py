"""Run the benchmarks and write a results table (see benchmarks/README.md).

    .venv/bin/python -m benchmarks.run            # full: 10^4, 10^5, 10^6 records
    .venv/bin/python -m benchmarks.run --smoke    # tiny sizes, for CI

Per engine (SQLite, PostgreSQL): ingest through the write API against the
engine's bulk insert of the same rows; read-API latency of the six query
shapes against the hand-written SQL on the same database, Datasette (SQLite)
and DuckDB holding the same records; then the same shapes with rollups, cold
(result cache off) and warm, and ingest with a rollup. Every figure is a
ratio to a baseline measured in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sqlite3
import sys
import tempfile
import traceback
from pathlib import Path

import psycopg

from benchmarks import bulk, generate, rollups
from benchmarks.backends import Backend, SQLiteBackend, sqlite_path
from benchmarks.duckdb_ref import DuckDB
from benchmarks.harness import ROOT, BenchmarkSetupError, ensure_bench_venv
from benchmarks.ingest import ingest_size
from benchmarks.postgres import DEFAULT_URL, PostgresBackend
from benchmarks.queries import GROWTH, QUERIES
from benchmarks.report import kept_sections, report
from benchmarks.results import DATA_SET, EngineRun, QueryResult, ms, p50
from benchmarks.sides import measure_cases, open_sides


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Backdrop ingest and query benchmarks")
    add = parser.add_argument
    add("--smoke", action="store_true", help="tiny sizes, few runs (CI)")
    add("--sizes", help="comma-separated record counts (default 10^4,10^5,10^6)")
    add("--engines", default="sqlite,postgres", help="sqlite and/or postgres")
    add("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL))
    add("--workers", default="1,2", help="write-app worker counts to ingest with")
    add("--reps", type=int, help="max timed rounds per query")
    add("--ingest-repeats", type=int, help="ingest runs per size (default 3 up to 10^5, else 1)")
    add("--budget", type=float, help="seconds per query before stopping early")
    add("--seed", type=int, default=generate.DEFAULT_SEED)
    add("--no-datasette", action="store_true", help="skip the Datasette side")
    add("--no-duckdb", action="store_true", help="skip the DuckDB reference")
    add("--no-rollups", action="store_true", help="skip the rollup runs")
    add("--rollup-ingest-only", action="store_true", help="only the ingest with rollups")
    add("--no-engine-rate", action="store_true", help="skip timing engine.save_records")
    add("--no-queries", action="store_true", help="ingest only")
    add("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md", help="results file")
    add("--keep", type=Path, help="keep the SQLite databases in this directory")
    add("--reuse", type=Path, help="a --keep directory: SQLite sizes found there skip ingest")
    add("--app-root", type=Path, help="serve the apps from this checkout (baselines use this one)")
    args = parser.parse_args(argv)
    if args.app_root:
        os.environ["BENCH_APP_ROOT"] = str(args.app_root.resolve())
    sizes, reps, budget = (
        ("1000,3000", 5, 5.0) if args.smoke else ("10000,100000,1000000", 30, 30.0)
    )
    args.sizes = sorted(int(s) for s in (args.sizes or sizes).split(","))
    args.workers = [int(w) for w in args.workers.split(",")]
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.reps = args.reps or reps
    args.budget = args.budget or budget
    return args


def _in_window(backend: Backend, url: str) -> int:
    side = backend.sql_side(url)
    try:
        return sum(row["_count"] for row in side.run(side.sql(GROWTH)))
    finally:
        side.close()


def _print(results: list[QueryResult], prefix: str = "") -> None:
    for r in results:
        sides = ", ".join(
            f"{side} {ms(p50(values))} ms" for side, values in r.timings.sides.items()
        )
        agree = "" if all(r.same_answer.values()) else f"  ANSWERS DIFFER {r.same_answer}"
        print(f"   {prefix}{r.case.name}: {sides}{agree}", flush=True)


def _history(args, backend: SQLiteBackend, url: str, logs: Path) -> QueryResult:
    """The 7-day-window query on the second-largest data set grown to the
    largest size with older records only: same matches, 10× the data set."""
    small, big = args.sizes[-2:]
    print(f"== SQLite, {small:,} records + {big - small:,} older ones (growth control)", flush=True)
    path = sqlite_path(url)
    bulk.add_history(path, DATA_SET, big - small, args.seed)
    with open_sides(backend, url, logs, "history", None, None, rollups.CACHE_OFF) as sides:
        (result,) = measure_cases(sides, big, (GROWTH,), args.reps, args.budget)
    result.rows_in_window = _in_window(backend, url)
    result.label = f"{small:,} + {big - small:,} older"
    backend.discard(url)
    return result


def _copy(url: str, target: Path) -> str:
    connection = sqlite3.connect(sqlite_path(url))
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    shutil.copyfile(sqlite_path(url), target)
    return f"sqlite:///{target}"


def _database(args, backend: Backend, n: int, logs: Path, run: EngineRun) -> tuple[str, bool]:
    """The database holding n ingested records (ingesting them unless reused)."""
    reused = args.reuse and args.reuse / f"bench-{n}-{args.workers[-1]}w.db"
    if backend.key == "sqlite" and reused and reused.exists():
        print(f"== SQLite, {n:,} records: reusing {reused}", flush=True)
        return f"sqlite:///{reused}", True
    repeats = args.ingest_repeats or (3 if n <= 100_000 and not args.smoke else 1)
    url, results, rates = ingest_size(
        backend, n, args.seed, args.workers, repeats, logs, not args.no_engine_rate
    )
    run.ingest += results
    run.raw_rates[n] = rates["raw"]
    if "engine" in rates:
        run.engine_rates[n] = rates["engine"]
    return url, False


def run_engine(args, backend: Backend, logs: Path, bench_bin, duckdb, run: EngineRun) -> None:
    history = None
    if args.rollup_ingest_only:
        rollups.ingest(backend, args.sizes[-1], args.seed, logs, run.rollups)
        return
    for n in args.sizes:
        url, reused = _database(args, backend, n, logs, run)
        backend.settle(url)
        if args.no_queries:
            backend.discard(url)
            continue
        largest = n == args.sizes[-1]
        cases = (*QUERIES, GROWTH) if largest else (GROWTH,)
        datasette = bench_bin if backend.key == "sqlite" and not args.no_datasette else None
        tag = f"{backend.key}-{n}"
        with open_sides(
            backend, url, logs, tag, datasette, duckdb if largest else None, rollups.CACHE_OFF
        ) as sides:
            results = measure_cases(sides, n, cases, args.reps, args.budget)
        _print(results)
        for result in results:
            if result.case is GROWTH:
                result.rows_in_window, result.label = _in_window(backend, url), f"{n:,}"
                run.growth.append(result)
            else:
                run.queries.append(result)
        if largest and not args.no_rollups:
            run.rollups = rollups.queries(
                backend, url, n, (*QUERIES, GROWTH), args.reps, args.budget, logs,
                datasette, duckdb, run.queries + run.growth[-1:],
            )  # fmt: skip
            _print(run.rollups.cold, "rollups cold ")
            _print(run.rollups.warm, "rollups warm ")
        if isinstance(backend, SQLiteBackend) and len(args.sizes) >= 2 and n == args.sizes[-2]:
            history = _copy(url, backend.work / "history.db")
        if not reused and not args.keep:
            backend.discard(url)
    if not args.no_rollups and not args.no_queries:
        rollups.ingest(backend, args.sizes[-1], args.seed, logs, run.rollups)
    if history and isinstance(backend, SQLiteBackend):
        run.growth.append(_history(args, backend, history, logs))


def _backend(name: str, args, work: Path) -> Backend | None:
    """The engine's backend, or None (with a printed reason) when its server
    cannot be reached."""
    if name == "sqlite":
        return SQLiteBackend(work)
    if name != "postgres":
        raise SystemExit(f"unknown engine {name!r}: use sqlite and/or postgres")
    try:
        return PostgresBackend(args.postgres_url)
    except psycopg.OperationalError as error:
        print(f"== PostgreSQL skipped: not reachable at {args.postgres_url}: {error}", flush=True)
        return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench_bin = None
    if not (args.no_datasette and args.no_duckdb):
        try:
            bench_bin = ensure_bench_venv()
        except BenchmarkSetupError as error:
            print(f"benchmark venv: {error}", file=sys.stderr)
            return 2
    runs: list[EngineRun] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="backdrop-bench-") as scratch:
        work = args.keep or Path(scratch)
        logs = work / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        duckdb = None
        if bench_bin and not args.no_duckdb and not args.no_queries:
            print(f"== DuckDB reference: loading {args.sizes[-1]:,} records", flush=True)
            duckdb = DuckDB(bench_bin, args.sizes[-1], args.seed, ROOT)
        try:
            for name in args.engines:
                backend = _backend(name, args, work)
                if backend is None:
                    continue
                runs.append(EngineRun(backend.label, backend.version))
                try:
                    run_engine(args, backend, logs, bench_bin, duckdb, runs[-1])
                except Exception as error:  # report what was measured, and why the rest was not
                    traceback.print_exc()
                    failures.append(
                        f"{backend.label} stopped early: {type(error).__name__}: {error}"
                    )
                finally:
                    backend.close()
        finally:
            if duckdb:
                duckdb.stop()
    command = shlex.join([".venv/bin/python", "-m", "benchmarks.run", *sys.argv[1:]])
    how = [
        f"- engines: {', '.join(f'{r.label} {r.version}' for r in runs)}; DuckDB "
        f"{duckdb.version if duckdb else '(not run)'} (benchmarks/.venv, all cores)",
        f"- data: `benchmarks/generate.py`, seed {args.seed}; apps under gunicorn on 127.0.0.1 "
        "(read app: 2 workers) against a fresh database per ingest run",
    ]
    how += [f"- **{failure}**" for failure in failures]
    how += [
        f"- rollup built in-process (as `backdrop rollups build`): {f}" for f in rollups.FALLBACKS
    ]
    if args.app_root:
        how.append(f"- apps served from `{args.app_root}` (not this checkout)")
    text = report(runs, command, how, kept_sections(args.output), duckdb.version if duckdb else "")
    args.output.write_text(text)
    print(f"wrote {args.output}")
    every = [
        r for run in runs for r in (*run.queries, *run.growth, *run.rollups.cold, *run.rollups.warm)
    ]
    mismatches = [r.case.name for r in every if not all(r.same_answer.values())]
    if mismatches:
        print(f"answers differ for: {', '.join(mismatches)}", file=sys.stderr)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
