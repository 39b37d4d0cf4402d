"""Growth to 10^7 records with rollups, on demand (not in the default run).

    .venv/bin/python -m benchmarks.growth --records 10000000 --engines sqlite,postgres

Per engine, at the base size (10^6) and at ``--records``: the records are
stored through ``engine.records.save`` (the call the write app makes; going
through HTTP would only lengthen the load), the six-shape rollup is declared
through the admin API and built in the background as in production, and the
rolled-up weekly grouped sum over one year is timed through the read API with
the result cache off, both sizes round-robin. The data spans the same two
years at every size, so the year holds 10× the records at 10^7; a rollup's
cost follows its rows (days × channels), not the records. Rewrites only its
own section of the results file ("Growth to 10^7"), which ``benchmarks.run``
keeps.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

from benchmarks import generate, rollups
from benchmarks.backends import Backend, SQLiteBackend
from benchmarks.harness import ROOT
from benchmarks.postgres import DEFAULT_URL, PostgresBackend
from benchmarks.queries import QUERIES
from benchmarks.results import BATCH, DATA_SET, ms, p50, p95
from benchmarks.sides import open_sides

HEADING = "## Growth to 10^7"
CASE = next(case for case in QUERIES if case.name == "period_week_group_sum")
SECTION = re.compile(rf"^{re.escape(HEADING)}.*?(?=^## |\Z)", re.M | re.S)


def stream(n: int, seed: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for record in generate.records(n, seed):
        batch.append(record)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def prepare(backend: Backend, n: int, args, logs: Path) -> dict:
    """Load n records into a fresh database and build the rollup."""
    print(f"== {backend.label}, {n:,} records: loading", flush=True)
    url = backend.fresh(f"growth-{n}")
    started = time.monotonic()
    backend.load(url, stream(n, args.seed), DATA_SET)
    backend.settle(url)
    loaded = time.monotonic() - started
    build, reason = rollups.enable(url, logs, f"growth-{backend.key}-{n}", rollups.SHAPES_CONFIG)
    if build is None:
        return {"n": n, "url": url, "skipped": reason}
    print(f"   loaded in {loaded:.0f} s, rollup built in {build:.1f} s", flush=True)
    return {"n": n, "url": url, "load": loaded, "build": build, "api": []}


def time_both(backend: Backend, rows: list[dict], args, logs: Path) -> None:
    """The rolled-up query on both sizes, round-robin (cache off), after
    checking both read apps answer it."""
    with ExitStack() as stack:
        sides = [
            stack.enter_context(
                open_sides(backend, row["url"], logs, f"growth-{backend.key}-{row['n']}",
                           None, None, rollups.CACHE_OFF)
            )
            for row in rows
        ]  # fmt: skip
        for side in sides:
            side.api(CASE)
        started = time.monotonic()
        for round_number in range(args.reps):
            for side, row in zip(sides, rows, strict=True):
                began = time.perf_counter()
                side.api(CASE)
                row["api"].append(time.perf_counter() - began)
            if round_number >= 4 and time.monotonic() - started > args.budget:
                break
    for row in rows:
        print(f"   {row['n']:,}: {CASE.name} {ms(p50(row['api']))} ms", flush=True)


def measure(backend: Backend, args, logs: Path) -> list[dict]:
    rows: list[dict] = []
    if not rollups.routed():
        reason = "the query layer does not route to rollups in this code"
        return [{"n": n, "url": "", "skipped": reason} for n in (args.base, args.records)]
    try:
        for n in (args.base, args.records):
            rows.append(prepare(backend, n, args, logs))
        timed = [row for row in rows if "skipped" not in row]
        if timed:
            time_both(backend, timed, args, logs)
    finally:
        for row in rows:
            if row["url"]:
                backend.discard(row["url"])
    return rows


def section(figures: dict[str, list[dict]], command: str) -> str:
    lines = [HEADING, ""]
    lines.append(
        f"`{'&'.join(f'{k}={v}' for k, v in CASE.params)}` through the read API (2 workers, "
        'result cache off) with the rollup of dimensions `["channel", "region", '
        '["department", "page"]]`, measures `["volume", "duration"]`, day grain; '
        "records stored with `engine.records.save`, rollup declared through the admin API "
        f"and built in the background. Command: `{command}`. 2 shared cores."
    )
    lines += [
        "",
        "| engine | records | load (s) | rollup build (s) | API p50 / p95 (ms) | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    verdicts = []
    for engine, rows in figures.items():
        for row in rows:
            if "skipped" in row:
                lines.append(
                    f"| {engine} | {row['n']:,} | — | — | not measured: {row['skipped']} | |"
                )
                continue
            lines.append(
                f"| {engine} | {row['n']:,} | {row['load']:.0f} | {row['build']:.1f} | "
                f"{ms(p50(row['api']))} / {ms(p95(row['api']))} | {len(row['api'])} |"
            )
        timed = [row for row in rows if "api" in row]
        if len(timed) == 2:
            small, big = timed
            verdicts.append(
                f"- {engine}: time at {big['n']:,} ÷ at {small['n']:,}: "
                f"**{p50(big['api']) / p50(small['api']):.2f}** (target ≤ 2)"
            )
    fallbacks = [f"- rollup built in-process: {f}" for f in rollups.FALLBACKS]
    return "\n".join([*lines, "", *verdicts, *fallbacks, ""]) + "\n"


def write(output: Path, text: str) -> None:
    current = output.read_text() if output.exists() else ""
    if SECTION.search(current):
        current = SECTION.sub(lambda _: text + "\n", current)
    else:
        current = current.rstrip("\n") + "\n\n" + text
    output.write_text(current)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--base", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_URL)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--build-timeout", type=float, default=7200.0, help="seconds per build")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args(argv)
    rollups.BUILD_TIMEOUT = args.build_timeout
    figures: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="backdrop-growth-") as scratch:
        work = Path(scratch)
        logs = work / "logs"
        logs.mkdir()
        for name in args.engines.split(","):
            backend: Backend = (
                SQLiteBackend(work) if name == "sqlite" else PostgresBackend(args.postgres_url)
            )
            try:
                figures[backend.label] = measure(backend, args, logs)
            finally:
                backend.close()
    command = " ".join([".venv/bin/python -m benchmarks.growth", *sys.argv[1:]])
    write(args.output, section(figures, command))
    print(f"wrote {HEADING} in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
