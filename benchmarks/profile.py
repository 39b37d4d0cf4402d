"""Profile the apps under load with py-spy and summarise where the time goes.

    .venv/bin/python -m benchmarks.profile ingest --records 100000 --workers 1
    .venv/bin/python -m benchmarks.profile queries --records 100000

py-spy (from benchmarks/.venv) starts gunicorn as its child and samples the
master and its workers (``--subprocesses``); the raw collapsed stacks go to
``--out`` and the summary (functions by share of samples, inclusive and own)
to stdout.
"""

from __future__ import annotations

import argparse
import collections
import secrets
import sys
import tempfile
from pathlib import Path

import orjson

from benchmarks import generate
from benchmarks.backends import SQLiteSqlSide
from benchmarks.harness import app_env, ensure_bench_venv, start_app
from benchmarks.ingest import measure_ingest
from benchmarks.queries import GROWTH, QUERIES
from benchmarks.results import BATCH, DATA_SET
from benchmarks.rollups import INGEST_CONFIG
from benchmarks.sides import Sides


def py_spy(bench_bin: Path, out: Path, rate: int = 200) -> list[str]:
    return [
        str(bench_bin / "py-spy"),
        "record",
        "--subprocesses",
        "--idle",
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--output",
        str(out),
        "--",
    ]


def _frame_name(frame: str) -> str:
    """``func (path/to/file.py:12)`` → ``func (file.py)``, so lines of one function merge."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    short = "/".join(path.split("/")[-2:])
    return f"{name} ({short})"


def summarise(collapsed: Path, top: int = 30, only: str | None = None) -> str:
    """Functions by inclusive and own share of the samples of stacks that pass
    through ``only`` (e.g. ``wsgi_app``: the request-handling samples)."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        if only and only not in stack:
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames:
            continue
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    lines = [f"{total} samples" + (f" through {only}" if only else "")]
    lines.append("inclusive:")
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in inclusive.most_common(top)]
    lines.append("own:")
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in own.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="profile the apps under benchmark load")
    parser.add_argument("what", choices=("ingest", "queries"))
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="query repetitions")
    parser.add_argument("--query", help="profile only this query (by name)")
    parser.add_argument("--out", type=Path, default=Path("profile.txt"))
    parser.add_argument("--db", type=Path, help="query this existing file instead of ingesting")
    parser.add_argument(
        "--rollups", action="store_true", help="ingest into a data set with the benchmark rollup"
    )
    args = parser.parse_args(argv)
    bench_bin = ensure_bench_venv()
    wrap = py_spy(bench_bin, args.out.resolve())
    with tempfile.TemporaryDirectory(prefix="backdrop-profile-") as scratch:
        work = Path(scratch)
        if args.what == "ingest":
            bodies = [orjson.dumps(b) for b in generate.batches(args.records, BATCH)]
            result = measure_ingest(
                bodies,
                args.records,
                args.workers,
                f"sqlite:///{work / 'p.db'}",
                work / "write.log",
                config=INGEST_CONFIG if args.rollups else None,
                wrap=wrap,
            )
            print(f"{result.rate:,.0f} rec/s under the profiler", file=sys.stderr)
        else:
            db = args.db
            if db is None:
                db = work / "p.db"
                bodies = [orjson.dumps(b) for b in generate.batches(args.records, BATCH)]
                measure_ingest(bodies, args.records, 2, f"sqlite:///{db}", work / "write.log")
            env = app_env(f"sqlite:///{db}", secrets.token_urlsafe(16))
            cases = [c for c in (*QUERIES, GROWTH) if not args.query or c.name == args.query]
            with start_app("read", 1, env, work / "read.log", wrap) as read:
                sides = Sides(read.url, SQLiteSqlSide(db, DATA_SET))
                for _ in range(args.rounds):
                    for case in cases:
                        sides.api(case)
                sides.close()
    print(summarise(args.out.resolve(), only="wsgi_app"))


if __name__ == "__main__":
    main()
