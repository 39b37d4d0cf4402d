"""A raw read of 1,000,000 records streams: the JSON and the CSV answers come
back whole, not cut off by any worker timeout, while the read worker's peak
RSS (VmHWM) stays under 150 MB. The app is started as ./start-app.sh does,
with one worker so its memory is the read's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import requests

from backdrop.core.data_sets import Registry
from backdrop.core.records import prepare_records
from backdrop.core.storage import open_engine

RECORDS = 1_000_000
BATCH = 50_000
PEAK_LIMIT_MB = 150

pytestmark = pytest.mark.slow


def _fill(database: Path) -> None:
    engine = open_engine(f"sqlite:///{database}")
    try:
        config, _ = Registry(engine).create({"name": "big"})
        now = datetime.now(UTC)
        for start in range(0, RECORDS, BATCH):
            batch = [
                {"_id": f"r{n:07d}", "region": "north" if n % 2 else "south", "units": n}
                for n in range(start, start + BATCH)
            ]
            engine.records.save("big", prepare_records(batch, config, now))
    finally:
        engine.close()


def _worker_peak_mb(master_pid: int) -> float:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    assert len(children) == 1, children  # one worker: its high-water mark is the read's
    status = Path(f"/proc/{children[0]}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def test_a_million_record_raw_read_streams_in_bounded_memory(start, tmp_path):
    _fill(tmp_path / "hostile.db")
    read = start("read", WEB_CONCURRENCY="1")

    response = requests.get(f"{read.url}/data/big/big", timeout=600)
    assert response.status_code == 200
    data = orjson.loads(response.content)["data"]
    assert len(data) == RECORDS
    assert data[0]["_id"] == "r0000000" and data[-1]["units"] == RECORDS - 1
    del data

    with requests.get(f"{read.url}/data/big/big?format=csv", timeout=600, stream=True) as csv:
        assert csv.status_code == 200
        lines = sum(chunk.count(b"\n") for chunk in csv.iter_content(1 << 16))
    assert lines == RECORDS + 1  # the header, then every record

    peak = _worker_peak_mb(read.process.pid)
    assert peak < PEAK_LIMIT_MB, f"read worker peak RSS {peak:.0f} MB"
