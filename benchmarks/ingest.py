"""Ingest through the write API (gunicorn) against the engine's bulk insert.

Bodies are serialised before the clock starts; batches of ``BATCH`` go out on
as many client connections as the app has workers. The bulk baseline and the
API runs alternate, so machine-load drift hits both alike.
"""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import requests

from benchmarks import generate
from benchmarks.backends import Backend
from benchmarks.harness import RssSampler, app_env, start_app
from benchmarks.results import BATCH, DATA_SET, IngestResult


class ConfigRejected(RuntimeError):
    """The write app refused the data-set config (e.g. no ``dimensions`` yet)."""


def create_data_set(write_url: str, admin_token: str, extra: dict[str, Any] | None = None) -> str:
    """Create the benchmark data set (with ``extra`` config fields); its token."""
    response = requests.post(
        f"{write_url}/data-sets",
        json={"name": DATA_SET, **(extra or {})},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=30,
    )
    if response.status_code == 400 and extra:
        try:
            message = str(response.json().get("message", ""))[:200]
        except ValueError:
            message = response.text[:200]
        raise ConfigRejected(f"config refused (400): {message}")
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
    bodies: list[bytes],
    n: int,
    workers: int,
    url: str,
    log: Path,
    wrap=(),
    config: dict[str, Any] | None = None,
) -> IngestResult:
    """One API ingest into a fresh database at ``url``; peak RSS of the app."""
    admin = secrets.token_urlsafe(16)
    with start_app("write", workers, app_env(url, admin), log, wrap) as app:
        token = create_data_set(app.url, admin, config)
        with RssSampler(app.server_pid()) as rss:
            seconds = post_batches(f"{app.url}/data/{DATA_SET}/{DATA_SET}", token, bodies, workers)
    return IngestResult(
        n,
        workers,
        seconds,
        rss.peak_total_kb / 1024,
        rss.peak_process_kb / 1024,
        rss.peak_anon_kb / 1024,
    )


def _median_result(n: int, workers: int, runs: list[IngestResult]) -> IngestResult:
    return IngestResult(
        n,
        workers,
        statistics.median(run.seconds for run in runs),
        max(run.peak_rss_total_mb for run in runs),
        max(run.peak_rss_process_mb for run in runs),
        max(run.peak_rss_anon_mb for run in runs),
        runs=len(runs),
    )


def ingest_size(
    backend: Backend,
    n: int,
    seed: int,
    workers_list: list[int],
    repeats: int,
    logs: Path,
    engine_rate: bool = True,
) -> tuple[str, list[IngestResult], dict[str, float]]:
    """Bulk baseline and API ingest of n records, ``repeats`` times; returns
    the database of the last API run (kept), the API results and the bulk
    rates (medians)."""
    print(f"== {backend.label}, {n:,} records: generating", flush=True)
    batches = generate.batches(n, BATCH, seed)
    bodies = [orjson.dumps(batch) for batch in batches]
    bulk_runs: list[dict[str, float]] = []
    api_runs: dict[int, list[IngestResult]] = {workers: [] for workers in workers_list}
    url = ""
    for _ in range(repeats):
        bulk_runs.append(backend.bulk(batches, DATA_SET, engine_rate))
        rates = ", ".join(f"{side} {rate:,.0f} rec/s" for side, rate in bulk_runs[-1].items())
        print(f"   bulk insert: {rates}", flush=True)
        for workers in workers_list:
            if url:
                backend.discard(url)
            url = backend.fresh(f"{n}-{workers}w")
            log = logs / f"write-{backend.key}-{n}-{workers}w.log"
            result = measure_ingest(bodies, n, workers, url, log)
            stored = backend.count(url, DATA_SET)
            if stored != n:
                raise RuntimeError(f"{n} records posted but {stored} stored")
            api_runs[workers].append(result)
            print(
                f"   API, {workers} worker(s): {result.rate:,.0f} rec/s, peak RSS "
                f"{result.peak_rss_total_mb:.0f} MB ({result.peak_rss_anon_mb:.0f} anonymous)",
                flush=True,
            )
    rates = {key: statistics.median(run[key] for run in bulk_runs) for key in bulk_runs[0]}
    results = [_median_result(n, w, runs) for w, runs in api_runs.items()]
    return url, results, rates
