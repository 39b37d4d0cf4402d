"""Uploads: rows/s of CSV and XLSX uploads, and the write app's peak memory.

Each file (generated here, never committed) is uploaded to a fresh data set
of a write app under gunicorn (1 worker, SQLite); the baseline, measured in
the same run, is the same records sent as JSON through ``POST /data/…`` in
batches of 1,000 (the write path an upload is compared with), and the parse
alone in-process. The write app's peak RSS is the worker's high-water mark
(VmHWM) and the whole tree's sampled peak. Issue 10's target: a 200,000-row
XLSX uploads with the write app under 250 MB.

    .venv/bin/python -m benchmarks.uploads --rows 200000   # prints a Markdown section
"""

from __future__ import annotations

import argparse
import csv
import secrets
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import orjson
import requests

from backdrop.core.files import parse
from benchmarks.harness import RssSampler, app_env, process_tree, start_app

HEADER = ["_timestamp", "channel", "region", "volume", "duration"]
CHANNELS = ["web", "phone", "post", "face", "chat"]


def rows(count: int):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for n in range(count):
        moment = start + timedelta(minutes=7 * n)
        yield [moment, CHANNELS[n % 5], f"region-{n % 20:02}", n % 997, (n % 613) / 7]


def write_csv(path: Path, count: int) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for row in rows(count):
            writer.writerow([row[0].strftime("%Y-%m-%dT%H:%M:%SZ"), *row[1:]])


def write_xlsx(path: Path, count: int) -> None:
    """Streamed by openpyxl, then given the <dimension> element Excel writes at
    the top of a sheet (openpyxl's streaming writer leaves it out, and without
    it openpyxl's reader scans the whole sheet once more just to size it)."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append(HEADER)
    for row in rows(count):
        sheet.append([row[0].replace(tzinfo=None), *row[1:]])
    raw = path.with_suffix(".raw.xlsx")
    book.save(raw)
    member = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == member:
                dimension = f'<dimension ref="A1:E{count + 1}"/>'.encode()
                data = data.replace(b"<sheetViews>", dimension + b"<sheetViews>", 1)
            out.writestr(info.filename, data)
    raw.unlink()


def _data_set(url: str, admin: str) -> tuple[str, str]:
    name = f"up{secrets.token_hex(3)}"
    created = requests.post(
        f"{url}/data-sets", json={"name": name}, headers={"Authorization": f"Bearer {admin}"},
        timeout=30,
    )  # fmt: skip
    created.raise_for_status()
    return name, created.json()["bearer_token"]


def _worker_hwm_mb(pid: int) -> float:
    peak = 0
    for child in process_tree(pid):
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak / 1024


def upload(url: str, admin: str, path: Path) -> float:
    name, token = _data_set(url, admin)
    started = time.perf_counter()
    with path.open("rb") as stream:
        answer = requests.post(
            f"{url}/data/{name}/{name}/upload", files={"file": (path.name, stream)},
            headers={"Authorization": f"Bearer {token}"}, timeout=3600,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"upload of {path.name} failed: {answer.status_code} {answer.text}")
    return seconds


def json_baseline(url: str, admin: str, path: Path) -> float:
    """The file's records as JSON batches of 1,000 through the write API."""
    with path.open("rb") as stream:
        records = [row.record for row in parse(stream, path.name)]
    bodies = [orjson.dumps(records[i : i + 1000]) for i in range(0, len(records), 1000)]
    name, token = _data_set(url, admin)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    session = requests.Session()
    started = time.perf_counter()
    for body in bodies:
        session.post(f"{url}/data/{name}/{name}", data=body, headers=headers, timeout=600)
    return time.perf_counter() - started


def parse_only(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as stream:
        for _ in parse(stream, path.name):
            pass
    return time.perf_counter() - started


def measure(count: int, work: Path) -> list[str]:
    files = {"csv": work / "upload.csv", "xlsx": work / "upload.xlsx"}
    write_csv(files["csv"], count)
    write_xlsx(files["xlsx"], count)
    admin = secrets.token_urlsafe(12)
    lines = []
    for kind, path in files.items():
        env = app_env(f"sqlite:///{work}/{kind}.db", admin)
        with start_app("write", 1, env, work / f"{kind}.log") as server:
            with RssSampler(server.server_pid(), interval=0.1) as sampler:
                seconds = upload(server.url, admin, path)
            hwm = _worker_hwm_mb(server.server_pid())
            baseline = json_baseline(server.url, admin, path)
        parsing = parse_only(path)
        lines.append(
            f"| {kind} | {count:,} | {path.stat().st_size / 2**20:.1f} | {seconds:.1f} "
            f"| {count / seconds:,.0f} | {count / baseline:,.0f} | {baseline / seconds:.2f} "
            f"| {count / parsing:,.0f} | {hwm:.0f} | {sampler.peak_total_kb / 1024:.0f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="backdrop-upload-bench-") as work:
        lines = measure(args.rows, Path(work))
    print("| file | rows | MB | upload s | upload rows/s | JSON API rows/s | ratio "
          "| parse only rows/s | worker peak RSS (MB) | all processes peak RSS (MB) |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(lines))
    print(f"\nrun {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
