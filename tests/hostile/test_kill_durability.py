"""kill -9 of write workers while a client writes: every acknowledged record
is stored, no batch is half-stored, no record twice (a writer, a killer, a
count at the end, in bounded time)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from backdrop.core.query import Where
from backdrop.core.storage.sqlite import SQLiteEngine
from tests.hostile.conftest import TOKEN, make_data_set

BATCH = 50
SECONDS = 8


def workers(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def test_kill_9_loses_no_acknowledged_record_and_splits_no_batch(start, tmp_path):
    write = start("write")
    make_data_set(write.url)
    acknowledged: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        batch = 0
        session = requests.Session()
        while not stop.is_set():
            body = [{"_id": f"b{batch}-{i}", "batch": batch} for i in range(BATCH)]
            try:
                response = session.post(
                    f"{write.url}/data/hostile/hostile",
                    json=body,
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=10,
                )
                if response.status_code == 200:
                    acknowledged.append(batch)
            except requests.RequestException:
                session = requests.Session()  # the worker died mid-request: not acknowledged
            batch += 1

    thread = threading.Thread(target=writer)
    thread.start()
    kills = 0
    deadline = time.monotonic() + SECONDS
    try:
        while time.monotonic() < deadline:
            time.sleep(0.7)
            for pid in workers(write.process.pid)[:1]:
                os.kill(pid, signal.SIGKILL)
                kills += 1
    finally:
        stop.set()
        thread.join(timeout=30)
    assert kills >= 5 and len(acknowledged) >= 10, (kills, len(acknowledged))

    engine = SQLiteEngine(f"sqlite:///{tmp_path}/hostile.db")
    records = engine.records.find("hostile", Where())
    engine.close()
    ids = Counter(record["_id"] for record in records)
    assert not [i for i, n in ids.items() if n > 1], "a record is stored twice"
    per_batch = Counter(record["batch"] for record in records)
    assert not [b for b, n in per_batch.items() if n != BATCH], "a batch is half-stored"
    lost = [batch for batch in acknowledged if per_batch.get(batch) != BATCH]
    assert lost == [], f"acknowledged batches lost: {lost}"
