"""The targets of issue 15 (and the earlier ones of issue 6), each a verdict
on figures measured in the same run: met, missed, or not measured and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.results import IngestResult, QueryResult, p50

COLD_MS = 50.0
DUCKDB_RATIO = 5.0
DATASETTE_RATIO = 1.0
WARM_MS = 3.0
INGEST_RATIO = 0.5
RSS_MB = 300
GROWTH_RATIO = 2.0
NOISE = 1.10  # "no slower than today" allows 10 % for a shared machine

# Today's figures: benchmarks/RESULTS.md at commit efba2b3 (SQLite, 10^6
# records, 2026-11-25): API p50 (ms) and API ÷ raw SQL per shape, and the
# ingest ratio per worker count.
TODAY_QUERIES = {
    "raw_filter_limit": (2.9, 4.59),
    "group_by": (1386.6, 0.85),
    "period_week": (188.0, 1.04),
    "period_week_group_sum": (954.2, 0.77),
    "prefix_group_by": (872.4, 0.91),
    "duration_month": (210.1, 1.05),
}
TODAY_INGEST = {1: 0.43, 2: 0.73}
TODAY_SIZE = 1_000_000


@dataclass
class Verdicts:
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, target: str, measured: str, ok: bool | None, why: str = "") -> None:
        verdict = "met" if ok else "**missed**"
        if ok is None:
            verdict = f"not measured: {why}" if why else "not measured"
        self.rows.append((target, measured, verdict))

    def lines(self) -> list[str]:
        out = ["| target | measured | |", "| --- | ---: | --- |"]
        out += [f"| {t} | {m} | {v} |" for t, m, v in self.rows]
        return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _agree(result: QueryResult) -> bool:
    return all(result.same_answer.values())


def rollup_targets(
    verdicts: Verdicts, engine: str, cold: list[QueryResult], warm: list[QueryResult], why: str
) -> None:
    if not cold:
        verdicts.add(f"{engine}, rollups, cold: every shape ≤ {COLD_MS:.0f} ms", "—", None, why)
        verdicts.add(
            f"{engine}, rollups, cold: every shape ≤ {DUCKDB_RATIO:.0f}× DuckDB", "—", None, why
        )
        verdicts.add(f"{engine}, warm: every shape ≤ {WARM_MS:.0f} ms", "—", None, why)
        return
    for r in cold:
        api = p50(r.timings.api)
        verdicts.add(
            f"{engine}, rollups, cold: {r.case.name} ≤ {COLD_MS:.0f} ms",
            _ms(api),
            api * 1000 <= COLD_MS and _agree(r),
        )
        if r.timings.duckdb:
            duck = api / p50(r.timings.duckdb)
            verdicts.add(
                f"{engine}, rollups, cold: {r.case.name} ≤ {DUCKDB_RATIO:.0f}× DuckDB",
                f"{duck:.2f}",
                duck <= DUCKDB_RATIO and _agree(r),
            )
        if r.case.name == "raw_filter_limit" and r.timings.datasette:
            ds = api / p50(r.timings.datasette)
            verdicts.add(
                f"{engine}, rollups, cold: raw filter+limit ≤ {DATASETTE_RATIO:.1f}× Datasette",
                f"{ds:.2f}",
                ds <= DATASETTE_RATIO,
            )
    for r in warm:
        api = p50(r.timings.api)
        verdicts.add(
            f"{engine}, warm: {r.case.name} ≤ {WARM_MS:.0f} ms p50",
            _ms(api),
            api * 1000 <= WARM_MS and _agree(r),
        )


def no_rollup_targets(
    verdicts: Verdicts,
    engine: str,
    queries: list[QueryResult],
    ingest: list[IngestResult],
    raw_rates: dict[int, float],
) -> None:
    """Without rollups, no slower than today (SQLite: the only engine with
    earlier figures), judged on the same-run ratios."""
    if engine != "SQLite" or not queries or queries[0].n != TODAY_SIZE:
        return
    for r in queries:
        if r.case.name not in TODAY_QUERIES or not r.timings.sql:
            continue
        before_ms, before_ratio = TODAY_QUERIES[r.case.name]
        now = p50(r.timings.api) / p50(r.timings.sql)
        verdicts.add(
            f"SQLite, no rollups: {r.case.name} API ÷ SQL no worse than today's {before_ratio:.2f}",
            f"{now:.2f} ({p50(r.timings.api) * 1000:.1f} ms; today {before_ms:.1f} ms)",
            now <= before_ratio * NOISE and _agree(r),
        )
    for result in ingest:
        if result.n != TODAY_SIZE or result.workers not in TODAY_INGEST:
            continue
        now = result.rate / raw_rates[result.n]
        before = TODAY_INGEST[result.workers]
        verdicts.add(
            f"SQLite, no rollups: ingest {result.n:,}, {result.workers} worker(s) ratio no worse "
            f"than today's {before:.2f}",
            f"{now:.2f}",
            now >= before / NOISE,
        )


def ingest_targets(
    verdicts: Verdicts,
    engine: str,
    result: IngestResult | None,
    raw_rate: float | None,
    why: str,
) -> None:
    name = f"{engine}, ingest with rollups (2 dimensions, 2 measures), 1 worker"
    if result is None or not raw_rate:
        verdicts.add(f"{name}: ≥ {INGEST_RATIO}× raw bulk insert", "—", None, why)
        verdicts.add(f"{name}: peak RSS < {RSS_MB} MB", "—", None, why)
        return
    ratio = result.rate / raw_rate
    verdicts.add(
        f"{name}, {result.n:,} records: ≥ {INGEST_RATIO}× raw bulk insert",
        f"{ratio:.2f}",
        ratio >= INGEST_RATIO,
    )
    verdicts.add(
        f"{name}, {result.n:,} records: peak RSS < {RSS_MB} MB (all gunicorn processes)",
        f"{result.peak_rss_total_mb:.0f} MB",
        result.peak_rss_total_mb < RSS_MB,
    )


def issue6_targets(
    verdicts: Verdicts,
    engine: str,
    ingest: list[IngestResult],
    raw_rates: dict[int, float],
    queries: list[QueryResult],
) -> None:
    """Issue 6's ratios, kept for comparison (no rollups, cache off)."""
    for result in ingest:
        ratio = result.rate / raw_rates[result.n]
        verdicts.add(
            f"{engine}: ingest {result.n:,}, {result.workers} worker(s), ratio ≥ {INGEST_RATIO}",
            f"{ratio:.2f}",
            ratio >= INGEST_RATIO,
        )
    for r in queries:
        if r.timings.sql:
            ratio = p50(r.timings.api) / p50(r.timings.sql)
            verdicts.add(
                f"{engine}: {r.case.name} API ≤ 1.5× raw SQL",
                f"{ratio:.2f}",
                ratio <= 1.5 and _agree(r),
            )
        if r.timings.datasette:
            ratio = p50(r.timings.api) / p50(r.timings.datasette)
            verdicts.add(
                f"{engine}: {r.case.name} API ≤ 1.0× Datasette", f"{ratio:.2f}", ratio <= 1.0
            )
