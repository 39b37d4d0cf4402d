"""Rollup runs: the benchmark data set with ``dimensions`` and ``measures``.

- ``enable``: PATCH the config through the admin API of a write app on the
  database (the app builds the rollup in the background, as in production),
  then wait until the engine's ``state`` says it is ready.
- ``cold`` / ``warm``: the query shapes through a read app with the result
  cache off (``BACKDROP_RESULT_CACHE_BYTES=0``) and on (the same query again,
  data unchanged), each answer checked equal to the answer without rollups.
- ``ingest``: the API ingest (1 worker) into a data set created with a
  rollup on two dimensions and two measures, against the raw bulk insert
  measured right before it.

Every step returns a reason instead of a figure when the code under test has
no such feature yet (the config refuses ``dimensions``, the engine has no
``state``), so the rest of the run goes on.
"""

from __future__ import annotations

import inspect
import re
import secrets
import time
from pathlib import Path
from typing import Any

import orjson
import requests

from backdrop.core.storage import open_engine
from benchmarks import generate
from benchmarks.backends import Backend
from benchmarks.duckdb_ref import DuckDB
from benchmarks.harness import app_env, start_app
from benchmarks.ingest import ConfigRejected, measure_ingest
from benchmarks.queries import QueryCase
from benchmarks.results import BATCH, DATA_SET, QueryResult, RollupRun
from benchmarks.sides import measure_cases, open_sides

# Covers the six shapes: region; the total (period=week, duration); channel
# (weekly grouped sum); department with the page prefix filter.
SHAPES_CONFIG = {
    "dimensions": ["channel", "region", ["department", "page"]],
    "measures": ["volume", "duration"],
    "rollup_grain": "day",
}
INGEST_CONFIG = {"dimensions": ["channel", "region"], "measures": ["volume", "duration"]}
CACHE_OFF = {"BACKDROP_RESULT_CACHE_BYTES": "0"}
CACHE_ON = {"BACKDROP_RESULT_CACHE_BYTES": str(64 * 1024 * 1024)}
BUILD_TIMEOUT = 1800.0
FALLBACKS: list[str] = []  # builds the app failed and this process did instead


def state(url: str) -> Any:
    """The engine's state of the benchmark data set (raises AttributeError
    on code without rollups)."""
    engine = open_engine(url)
    try:
        return engine.records.state(DATA_SET)
    finally:
        engine.close()


def routed() -> bool:
    """Whether the query layer of the code under test asks the rollup at all
    (``backdrop.core.reading`` calling ``rollups.aggregate``); before that,
    "rolled-up" figures would be record answers, so they are not reported."""
    import backdrop.core.reading as reading

    return "rollups.aggregate(" in inspect.getsource(reading)


def _build_here(url: str) -> None:
    """Build in this process, as ``backdrop rollups build`` would (no timeout)."""
    engine = open_engine(url)
    try:
        engine.records.build_rollup(DATA_SET)
    finally:
        engine.close()


def enable(url: str, logs: Path, tag: str, config: dict[str, Any]) -> tuple[float | None, str]:
    """PATCH ``config`` onto the data set and wait for the built rollup:
    (seconds until ready, "") or (None, why not). If the app's background
    build fails (its log says so), the rollup is built here instead and
    ``FALLBACKS`` records it."""
    admin = secrets.token_urlsafe(16)
    log = logs / f"write-rollup-{tag}.log"
    with start_app("write", 1, app_env(url, admin), log) as app:
        started = time.monotonic()
        response = requests.patch(
            f"{app.url}/data-sets/{DATA_SET}",
            json=config,
            headers={"Authorization": f"Bearer {admin}"},
            timeout=600,
        )
        if response.status_code != 200:
            return None, f"config refused ({response.status_code}): {_message(response)}"
        while time.monotonic() - started < BUILD_TIMEOUT:
            try:
                current = state(url)
            except (AttributeError, NotImplementedError) as error:
                return None, f"the engine keeps no rollup state: {error}"
            if current.rollup is not None and current.ready:
                return time.monotonic() - started, ""
            if "could not build the rollup" in log.read_text(errors="replace"):
                FALLBACKS.append(f"{tag}: the app's background build failed (see {log.name})")
                print(f"   {FALLBACKS[-1]}; building in-process", flush=True)
                _build_here(url)
            time.sleep(0.5)
    return None, f"rollup not ready after {BUILD_TIMEOUT:.0f} s"


def cache_counts(read_url: str) -> tuple[float, float] | None:
    """(hits, misses) of the read app's result cache from ``/metrics``, or
    None when it exports no such counters."""
    try:
        text = requests.get(f"{read_url}/metrics", timeout=30).text
    except requests.RequestException:
        return None
    counts = {}
    for name in ("hits", "misses"):
        found = re.search(
            rf"^backdrop_result_cache_{name}_total(?:{{[^}}]*}})? ([\d.e+]+)$", text, re.M
        )
        if found is None:
            return None
        counts[name] = float(found.group(1))
    return counts["hits"], counts["misses"]


def _message(response: requests.Response) -> str:
    try:
        return str(response.json().get("message", ""))[:200]
    except ValueError:
        return response.text[:200]


def _answers_match(results: list[QueryResult], without: dict[str, Any]) -> None:
    for result in results:
        if result.case.name in without:
            result.same_answer["no rollup"] = result.answer == without[result.case.name]


def queries(
    backend: Backend,
    url: str,
    n: int,
    cases: tuple[QueryCase, ...],
    reps: int,
    budget: float,
    logs: Path,
    bench_bin: Path | None,
    duckdb: DuckDB | None,
    without: list[QueryResult],
) -> RollupRun:
    """Enable the six-shape rollup on the database, then time cold and warm."""
    run = RollupRun()
    if not routed():
        run.skipped["queries"] = "the query layer does not route to rollups in this code"
        print(f"   rollup queries skipped: {run.skipped['queries']}", flush=True)
        return run
    run.build_seconds, reason = enable(url, logs, f"{backend.key}-{n}", SHAPES_CONFIG)
    if run.build_seconds is None:
        run.skipped["queries"] = reason
        print(f"   rollup queries skipped: {reason}", flush=True)
        return run
    print(f"   rollup built in {run.build_seconds:.1f} s", flush=True)
    answers = {r.case.name: r.answer for r in without}
    raw_only = lambda case: case.name == "raw_filter_limit"  # noqa: E731 - SQL/Datasette are cheap
    tag = f"{backend.key}-{n}"
    with open_sides(backend, url, logs, f"{tag}-cold", bench_bin, duckdb, CACHE_OFF) as sides:
        run.cold = measure_cases(sides, n, cases, reps, budget, with_sql=raw_only)
    with open_sides(backend, url, logs, f"{tag}-warm", None, None, CACHE_ON) as sides:
        base = sides.read_url.split("/data/")[0]
        before = cache_counts(base)
        run.warm = measure_cases(
            sides, n, cases, reps, budget, with_sql=lambda case: False, warm_rounds=6
        )
        after = cache_counts(base)
        if before and after:
            run.cache_hits = (after[0] - before[0], after[1] - before[1])
    _answers_match(run.cold, answers)
    _answers_match(run.warm, answers)
    return run


def ingest(backend: Backend, n: int, seed: int, logs: Path, run: RollupRun) -> None:
    """API ingest with a two-dimension, two-measure rollup (1 worker) against
    the raw bulk insert of the same records measured just before."""
    batches = generate.batches(n, BATCH, seed)
    bodies = [orjson.dumps(batch) for batch in batches]
    raw = backend.bulk(batches, DATA_SET, engine=False)["raw"]
    del batches
    url = backend.fresh(f"{n}-rollup-ingest")
    try:
        log = logs / f"write-{backend.key}-{n}-rollup-ingest.log"
        try:
            result = measure_ingest(bodies, n, 1, url, log, config=INGEST_CONFIG)
        except ConfigRejected as error:
            run.skipped["ingest"] = str(error)
            print(f"   ingest with rollups skipped: {error}", flush=True)
            return
        stored = backend.count(url, DATA_SET)
        if stored != n:
            raise RuntimeError(f"{n} records posted but {stored} stored")
        current = state(url)
        if not (current.rollup is not None and current.ready):
            run.skipped["ingest"] = "the rollup was not ready after the ingest"
        run.ingest, run.ingest_raw_rate = result, raw
        print(
            f"   API with rollups, 1 worker: {result.rate:,.0f} rec/s against raw {raw:,.0f} "
            f"({result.rate / raw:.2f}), peak RSS {result.peak_rss_total_mb:.0f} MB",
            flush=True,
        )
    finally:
        backend.discard(url)
