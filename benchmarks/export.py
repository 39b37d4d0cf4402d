"""Export benchmark (SPEC 13): page cost at the start and the end of a data
set, and a streamed CSV of the whole data set with the read worker's memory.

    .venv/bin/python -m benchmarks.export --records 100000 --csv-records 1000000

- **Pages**: the read app (gunicorn, 1 worker) serves
  ``/data/bench/bench/records?limit=1000`` at page 1 (no cursor), in the
  middle and at the last page (cursors made with ``export.encode_cursor``),
  round-robin, p50 of ``--reps``. Baselines in the same run, on the same
  file: the keyset SQL the engine runs (``_id > ? ORDER BY _id LIMIT``) at
  the same places, and the ``LIMIT … OFFSET`` a naive export would run,
  whose last page grows with the data set.
- **Streamed CSV**: ``?format=csv`` of every record, read in 64 KiB chunks
  and thrown away; the read worker's peak RSS (VmHWM) against its RSS just
  before the request, and rows/s.

Results go to the "Export" section of benchmarks/RESULTS.md (other sections
are left as they are), or to ``--output``.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from backdrop.core.data_sets import Registry
from backdrop.core.export import encode_cursor
from backdrop.core.records import prepare_records
from backdrop.core.storage.sqlite import SQLiteEngine
from backdrop.core.storage.sqlite.rows import table
from benchmarks.generate import batches
from benchmarks.harness import RssSampler, _status_kb, app_env, process_tree, start_app

NAME = "bench"
PAGE = 1000
SECTION = re.compile(r"\n## Export\n.*?(?=\n## |\Z)", re.S)


def build(db_path: Path, n: int) -> None:
    engine = SQLiteEngine(f"sqlite:///{db_path}")
    try:
        config, _ = Registry(engine).create({"name": NAME})
        now = datetime.now(UTC)
        for batch in batches(n, 10_000):
            engine.records.save(NAME, prepare_records(batch, config, now))
    finally:
        engine.close()


def ids_at(db_path: Path, n: int) -> dict[str, str | None]:
    """The cursor ids of page 1, the middle page and the last page."""
    with sqlite3.connect(db_path) as connection:

        def nth(k: int) -> str:
            sql = f"SELECT _id FROM {table(NAME)} ORDER BY _id LIMIT 1 OFFSET ?"  # noqa: S608
            return str(connection.execute(sql, (k,)).fetchone()[0])

        return {"first": None, "middle": nth(n // 2 - 1), "last": nth(n - PAGE - 1)}


def sql_times(db_path: Path, after: dict[str, str | None], n: int, reps: int) -> dict[str, dict]:
    offsets = {"first": 0, "middle": n // 2, "last": n - PAGE}
    keyset = f"SELECT data FROM {table(NAME)} WHERE _id > ? ORDER BY _id LIMIT {PAGE}"  # noqa: S608
    offset = f"SELECT data FROM {table(NAME)} ORDER BY _id LIMIT {PAGE} OFFSET ?"  # noqa: S608
    found: dict[str, dict] = {"keyset": {}, "offset": {}}
    with sqlite3.connect(db_path) as connection:
        for where in offsets:
            for kind, sql, arg in (("keyset", keyset, after[where] or ""),
                                   ("offset", offset, offsets[where])):  # fmt: skip
                times = []
                for _ in range(reps):
                    started = time.perf_counter()
                    connection.execute(sql, (arg,)).fetchall()
                    times.append((time.perf_counter() - started) * 1000)
                found[kind][where] = statistics.median(times)
    return found


def api_times(url: str, after: dict[str, str | None], reps: int) -> dict[str, float]:
    times: dict[str, list[float]] = {where: [] for where in after}
    session = requests.Session()
    for _ in range(reps):
        for where, last_id in after.items():
            query = f"?limit={PAGE}" + (f"&next-id={encode_cursor(last_id)}" if last_id else "")
            started = time.perf_counter()
            response = session.get(f"{url}/data/{NAME}/{NAME}/records{query}", timeout=60)
            times[where].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and len(response.json()["results"]) == PAGE
    return {where: statistics.median(values) for where, values in times.items()}


def stream_csv(url: str, master_pid: int, n: int) -> dict[str, float]:
    worker = process_tree(master_pid)[-1]
    before = _status_kb(worker, "VmRSS")
    rows = 0
    with RssSampler(master_pid) as sampler:
        started = time.perf_counter()
        with requests.get(f"{url}/data/{NAME}/{NAME}/records?format=csv", stream=True,
                          timeout=600) as response:  # fmt: skip
            for chunk in response.iter_content(1 << 16):
                rows += chunk.count(b"\n")
        seconds = time.perf_counter() - started
    assert rows == n + 1, f"expected {n} rows and a header, got {rows} lines"
    return {"rows": n, "seconds": seconds, "before_mb": before / 1024,
            "peak_mb": _status_kb(worker, "VmHWM") / 1024,
            "peak_tree_mb": sampler.peak_total_kb / 1024}  # fmt: skip


def section(n: int, reps: int, api: dict, sql: dict, csv: dict | None) -> str:
    lines = [
        "",
        "## Export",
        "",
        f"`GET /data/<group>/<type>/records?limit={PAGE}` on SQLite (read app, gunicorn, 1 worker) "
        f"over {n:,} records, p50 of {reps} round-robin runs (ms), against the keyset SQL the "
        "engine runs and the `LIMIT … OFFSET` a naive export would run, on the same file "
        "(`python -m benchmarks.export`).",
        "",
        "| page | API p50 | keyset SQL p50 | OFFSET SQL p50 | API ÷ API page 1 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for where in ("first", "middle", "last"):
        lines.append(
            f"| {where} | {api[where]:.1f} | {sql['keyset'][where]:.2f} | "
            f"{sql['offset'][where]:.2f} | {api[where] / api['first']:.2f} |"
        )
    if csv:
        lines += [
            "",
            f"Streamed `?format=csv` of {csv['rows']:,} records: {csv['seconds']:.1f} s "
            f"({csv['rows'] / csv['seconds']:,.0f} rows/s); read worker RSS "
            f"{csv['before_mb']:.0f} MB before, peak {csv['peak_mb']:.0f} MB "
            f"(master + worker peak {csv['peak_tree_mb']:.0f} MB); target < 150 MB.",
        ]
    return "\n".join(lines) + "\n"


def write(output: Path, text: str) -> None:
    current = output.read_text() if output.exists() else "# Benchmark results\n"
    if SECTION.search(current):
        current = SECTION.sub(lambda _: text.rstrip("\n"), current)
    else:
        current = current.rstrip("\n") + "\n" + text
    output.write_text(current)


def measure(directory: Path, n: int, csv_n: int, reps: int) -> str:
    db_path = directory / f"export-{n}.db"
    build(db_path, n)
    after = ids_at(db_path, n)
    sql = sql_times(db_path, after, n, reps)
    env = app_env(f"sqlite:///{db_path}", "bench-admin")
    with start_app("read", 1, env, directory / "read.log") as server:
        api = api_times(server.url, after, reps)
    csv = None
    if csv_n:
        csv_path = db_path if csv_n == n else directory / f"export-{csv_n}.db"
        if csv_path != db_path:
            build(csv_path, csv_n)
        env = app_env(f"sqlite:///{csv_path}", "bench-admin")
        with start_app("read", 1, env, directory / "read-csv.log") as server:
            csv = stream_csv(server.url, server.server_pid(), csv_n)
    return section(n, reps, api, sql, csv)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--csv-records", type=int, default=1_000_000, help="0: skip the CSV")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="backdrop-export-") as directory:
        text = measure(Path(directory), args.records, args.csv_records, args.reps)
    write(args.output, text)
    print(text)


if __name__ == "__main__":
    main()
