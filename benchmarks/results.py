"""What a benchmark run measures, and the small helpers that summarise it."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from benchmarks.queries import QueryCase

DATA_SET = "bench"
BATCH = 1000


@dataclass
class IngestResult:
    n: int
    workers: int
    seconds: float
    peak_rss_total_mb: float
    peak_rss_process_mb: float
    peak_rss_anon_mb: float
    runs: int = 1

    @property
    def rate(self) -> float:
        return self.n / self.seconds


@dataclass
class Timings:
    """Seconds per timed round, per side ("api", "sql", "datasette", "duckdb")."""

    sides: dict[str, list[float]] = field(default_factory=dict)

    def add(self, side: str, seconds: float) -> None:
        self.sides.setdefault(side, []).append(seconds)

    def get(self, side: str) -> list[float]:
        return self.sides.get(side, [])

    @property
    def api(self) -> list[float]:
        return self.get("api")

    @property
    def sql(self) -> list[float]:
        return self.get("sql")

    @property
    def datasette(self) -> list[float]:
        return self.get("datasette")

    @property
    def duckdb(self) -> list[float]:
        return self.get("duckdb")


@dataclass
class QueryResult:
    case: QueryCase
    n: int
    timings: Timings
    same_answer: dict[str, bool]
    rows: int
    rows_in_window: int = 0
    label: str = ""
    answer: Any = None  # the API's answer in canonical form, to compare runs


@dataclass
class RollupRun:
    """One engine's rollup figures, or why a part was skipped."""

    build_seconds: float | None = None
    cold: list[QueryResult] = field(default_factory=list)
    warm: list[QueryResult] = field(default_factory=list)
    ingest: IngestResult | None = None
    ingest_raw_rate: float | None = None
    cache_hits: tuple[float, float] | None = None  # (hits, misses) over the warm run
    skipped: dict[str, str] = field(default_factory=dict)  # part ("queries", "ingest") → why


@dataclass
class EngineRun:
    """Everything one run measured on one engine."""

    label: str
    version: str
    ingest: list[IngestResult] = field(default_factory=list)
    raw_rates: dict[int, float] = field(default_factory=dict)
    engine_rates: dict[int, float] = field(default_factory=dict)
    queries: list[QueryResult] = field(default_factory=list)
    growth: list[QueryResult] = field(default_factory=list)
    rollups: RollupRun = field(default_factory=RollupRun)


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"
