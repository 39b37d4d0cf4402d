"""Seeded, reproducible benchmark records.

N records with five text dimensions of cardinality 5 to 500, two numeric
fields and a ``_timestamp`` spread uniformly over two whole years
(2024-01-01 to 2026-01-01, UTC, one-second resolution), in time order, as a
producer pushing an event log would send them. The same ``(n, seed)`` always
gives the same records, so every side of a comparison sees the same data.

Run as a script to print records as JSON lines:
``python -m benchmarks.generate 5 --seed 1``.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_SEED = 20240101

CHANNELS = ("web", "phone", "paper", "email", "face-to-face")  # 5
REGIONS = tuple(f"region-{i:02d}" for i in range(1, 21))  # 20
DEPARTMENTS = tuple(f"dept-{i:02d}" for i in range(1, 51))  # 50
SERVICES = tuple(f"service-{i:03d}" for i in range(1, 151))  # 150
PAGES = tuple(f"/section-{s:02d}/page-{p:02d}" for s in range(1, 26) for p in range(1, 21))  # 500

DIMENSIONS = {
    "channel": CHANNELS,
    "region": REGIONS,
    "department": DEPARTMENTS,
    "service": SERVICES,
    "page": PAGES,
}


def records(
    n: int, seed: int = DEFAULT_SEED, start_at: datetime = START, end_at: datetime = END
) -> Iterator[dict]:
    """The n records, oldest first (by default over START – END)."""
    rng = random.Random(seed)
    span = int((end_at - start_at).total_seconds())
    offsets = sorted(rng.randrange(span) for _ in range(n))
    start = int(start_at.timestamp())
    for offset in offsets:
        moment = datetime.fromtimestamp(start + offset, UTC)
        yield {
            "_timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "channel": rng.choice(CHANNELS),
            "region": rng.choice(REGIONS),
            "department": rng.choice(DEPARTMENTS),
            "service": rng.choice(SERVICES),
            "page": rng.choice(PAGES),
            "volume": rng.randrange(1, 1001),
            "duration": round(rng.uniform(0.5, 600.0), 2),
        }


def batches(n: int, size: int = 1000, seed: int = DEFAULT_SEED) -> list[list[dict]]:
    """The n records cut into write batches of ``size``."""
    out: list[list[dict]] = []
    batch: list[dict] = []
    for record in records(n, seed):
        batch.append(record)
        if len(batch) == size:
            out.append(batch)
            batch = []
    if batch:
        out.append(batch)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    for record in records(args.n, args.seed):
        sys.stdout.buffer.write(orjson.dumps(record) + b"\n")


if __name__ == "__main__":
    main()
