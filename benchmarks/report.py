"""The results file: one set of tables per engine, then the targets.

Sections written by other scripts (``benchmarks.uploads`` notes, ``Export``
from ``benchmarks.export``, ``Growth to 10^7`` from ``benchmarks.growth``)
are carried over from the existing file unchanged.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import ROOT
from benchmarks.queries import GROWTH
from benchmarks.results import BATCH, EngineRun, QueryResult, ms, p50, p95, ratio
from benchmarks.targets import (
    Verdicts,
    ingest_targets,
    issue6_targets,
    no_rollup_targets,
    rollup_targets,
)

KEPT_SECTIONS = ("## Uploads (issue 10)", "## Growth to 10^7", "## Export")
SHARED_MACHINE = (
    "The machine has 2 cores and is shared with other work (load average 1–14 during "
    "runs), so absolute times vary from run to run; the ratios against baselines "
    "measured in the same run, round-robin, are the comparable figures."
)


def kept_sections(output: Path) -> dict[str, str]:
    """The sections other scripts own, by heading, from the existing file."""
    if not output.exists():
        return {}
    text = output.read_text()
    found = {}
    for heading in KEPT_SECTIONS:
        match = re.search(rf"^{re.escape(heading)}.*?(?=^## |\Z)", text, re.M | re.S)
        if match:
            found[heading] = match.group(0).rstrip("\n") + "\n"
    return found


def _pair(values: list[float]) -> str:
    return f"{ms(p50(values))} / {ms(p95(values))}" if values else "not run"


def _same(result: QueryResult) -> str:
    return " ".join(f"{k} {'✓' if ok else '✗ MISMATCH'}" for k, ok in result.same_answer.items())


def _rate(rate: float | None) -> str:
    return f"{rate:,.0f}" if rate else "not run"


def _ingest(lines: list[str], run: EngineRun) -> None:
    lines += [f"## {run.label}: ingest", ""]
    lines.append(
        f"Records/s through `POST /data/<group>/<type>` under gunicorn (batches of {BATCH}, as "
        "many concurrent clients as workers) against a bulk insert of the same records "
        "(prepared and converted to the engine's row shape beforehand) with `executemany` of "
        "the engine's own insert into the same table, one transaction per 1,000, on the "
        "engine's own connection settings. `engine.save_records` (the engine call the write "
        "app makes, in-process, no HTTP or validation) for reference."
    )
    lines += [
        "",
        "| records | workers | runs | API rec/s | raw executemany rec/s | ratio | "
        "engine.save_records rec/s | peak RSS, all processes (MB) | of which anonymous (MB) | "
        "peak RSS, largest process (MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in run.ingest:
        raw = run.raw_rates[r.n]
        lines.append(
            f"| {r.n:,} | {r.workers} | {r.runs} | {r.rate:,.0f} | {raw:,.0f} | "
            f"{r.rate / raw:.2f} | {_rate(run.engine_rates.get(r.n))} | "
            f"{r.peak_rss_total_mb:.0f} | {r.peak_rss_anon_mb:.0f} | {r.peak_rss_process_mb:.0f} |"
        )
    lines.append("")


def _queries(lines: list[str], run: EngineRun, duckdb_version: str) -> None:
    n = run.queries[0].n
    lines += [f"## {run.label}: queries over {n:,} records, no rollups (result cache off)", ""]
    lines.append(
        "Latency in ms (p50 / p95) of the read API (2 workers), of the hand-written SQL on the "
        "same database (execute + fetchall), of Datasette serving that SQL from the same file "
        f"(SQLite only) and of DuckDB {duckdb_version} holding the same records in typed "
        "columns (in-process, timed inside its own process). Ratios are of medians; every "
        "side's answer was checked equal to the API's (✓)."
    )
    lines += [
        "",
        "| query | rows | runs | API | SQL | Datasette | DuckDB | API ÷ SQL | API ÷ Datasette | "
        "API ÷ DuckDB | same answer |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in run.queries:
        t, api = r.timings, p50(r.timings.api)
        lines.append(
            f"| {r.case.description} | {r.rows} | {len(t.api)} | {_pair(t.api)} | "
            f"{_pair(t.sql)} | {_pair(t.datasette)} | {_pair(t.duckdb)} | "
            f"{ratio(api, p50(t.sql)) if t.sql else 'n/a'} | "
            f"{ratio(api, p50(t.datasette)) if t.datasette else 'n/a'} | "
            f"{ratio(api, p50(t.duckdb)) if t.duckdb else 'n/a'} | {_same(r)} |"
        )
    lines.append("")


def _rollups(lines: list[str], run: EngineRun) -> None:
    rollup = run.rollups
    lines += [f"## {run.label}: rollups", ""]
    for part, reason in rollup.skipped.items():
        lines.append(f"- {part} with rollups not measured: {reason}")
    if rollup.cold:
        lines.append(
            f'Dimensions `["channel", "region", ["department", "page"]]`, measures '
            f'`["volume", "duration"]`, day grain, declared on the data set after the '
            f"ingest (PATCH through the admin API; built in the background in "
            f"{rollup.build_seconds:.1f} s). Cold: result cache off "
            "(`BACKDROP_RESULT_CACHE_BYTES=0`); warm: the same query again, cache on, after "
            "6 untimed calls (both workers filled). p50 / p95 in ms; ✓ = the same answer as "
            "without rollups (and as DuckDB, raw SQL, Datasette where timed)."
        )
        lines += [
            "",
            "| query | cold API | warm API | DuckDB | cold ÷ DuckDB | no rollups API | "
            "no rollups ÷ cold | same answer |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        warm = {r.case.name: r for r in rollup.warm}
        sized = [r for r in run.growth if "older" not in r.label and r.n == rollup.cold[0].n]
        before = {r.case.name: r for r in (*run.queries, *sized)}
        for r in rollup.cold:
            w, b = warm.get(r.case.name), before.get(r.case.name)
            cold = p50(r.timings.api)
            duck = r.timings.duckdb
            lines.append(
                f"| {r.case.description} | {_pair(r.timings.api)} | "
                f"{_pair(w.timings.api) if w else 'not run'} | {_pair(duck)} | "
                f"{ratio(cold, p50(duck)) if duck else 'n/a'} | "
                f"{_pair(b.timings.api) if b else 'not run'} | "
                f"{ratio(p50(b.timings.api), cold) if b else 'n/a'} | "
                f"{_same(r)}{' / warm ' + _same(w) if w else ''} |"
            )
    if rollup.cache_hits:
        hits, misses = rollup.cache_hits
        lines += ["", f"Result cache over the warm run (`/metrics`): {hits:,.0f} hits, "
                  f"{misses:,.0f} misses."]  # fmt: skip
    if rollup.ingest and rollup.ingest_raw_rate:
        i, raw = rollup.ingest, rollup.ingest_raw_rate
        lines += [
            "",
            'Ingest into a data set created with dimensions `["channel", "region"]` and '
            'measures `["volume", "duration"]` (rollup maintained in every write '
            "transaction), 1 worker, against the raw executemany measured just before it:",
            "",
            "| records | API rec/s | raw executemany rec/s | ratio | peak RSS, all processes (MB) "
            "| of which anonymous (MB) |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {i.n:,} | {i.rate:,.0f} | {raw:,.0f} | {i.rate / raw:.2f} | "
            f"{i.peak_rss_total_mb:.0f} | {i.peak_rss_anon_mb:.0f} |",
        ]
    lines.append("")


def _growth(lines: list[str], run: EngineRun) -> None:
    lines += [f"## {run.label}: growth of one 7-day-window grouped query (no rollups)", ""]
    lines.append(
        f"`{'&'.join(f'{k}={v}' for k, v in GROWTH.params)}`. The data always spans the same "
        "two years, so the window's records grow with the data set; the control row (SQLite) "
        "grows the second-largest data set to the largest size with records dated 2022–2023 "
        "only, so the window holds the same records in a 10× larger data set."
    )
    lines += [
        "",
        "| records | records in window | API p50 / p95 (ms) | SQL p50 (ms) | API ÷ SQL |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in run.growth:
        t = r.timings
        lines.append(
            f"| {r.label} | {r.rows_in_window:,} | {_pair(t.api)} | {ms(p50(t.sql))} | "
            f"{ratio(p50(t.api), p50(t.sql))} |"
        )
    sized = [r for r in run.growth if "older" not in r.label]
    if len(sized) >= 2:
        small, big = sized[-2], sized[-1]
        lines += [
            "",
            f"API time at {big.n:,} ÷ at {small.n:,}: "
            f"**{p50(big.timings.api) / p50(small.timings.api):.2f}** "
            f"(raw SQL: {p50(big.timings.sql) / p50(small.timings.sql):.2f}).",
        ]
    lines.append("")


def growth_verdict(kept: dict[str, str], verdicts: Verdicts) -> None:
    """The 10^7 growth figures live in their own section (``benchmarks.growth``)."""
    section = kept.get("## Growth to 10^7", "")
    found = re.findall(r"^- (\w+): .*?\*\*([\d.]+)\*\*", section, re.M)
    if not found:
        verdicts.add(
            "growth: rolled-up weekly grouped sum at 10^7 ≤ 2× its 10^6 time",
            "—",
            None,
            "on demand: `python -m benchmarks.growth`",
        )
    for engine, value in found:
        verdicts.add(
            f"{engine}, growth: rolled-up weekly grouped sum at 10^7 ≤ 2× its 10^6 time "
            "(see Growth to 10^7)",
            value,
            float(value) <= 2.0,
        )


def machine_facts() -> list[str]:
    cpu, memory = "unknown", "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        memory = f"{int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError, IndexError):
        pass

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    status = git("status", "--porcelain", "--", "backdrop").split("\n")
    changed = sorted(line[3:] for line in status if line.strip())
    tree = f"uncommitted changes in {', '.join(changed)}" if changed else "clean"
    return [
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; git commit "
        f"{git('rev-parse', '--short', 'HEAD').strip() or '?'}; backdrop/ working tree: {tree}",
        f"- CPU: {cpu}, {os.cpu_count()} cores visible; memory {memory}; load average at the "
        f"end {os.getloadavg()[0]:.1f} (shared machine)",
        f"- {platform.platform()}; Python {platform.python_version()}",
    ]


def report(
    runs: list[EngineRun], command: str, how: list[str], kept: dict[str, str], duckdb: str
) -> str:
    lines = ["# Benchmark results", ""]
    lines.append(
        "Medians of repeated runs; every ratio divides by a baseline measured in the same run "
        f"on the same machine. {SHARED_MACHINE}"
    )
    lines.append("")
    targets, earlier = Verdicts(), Verdicts()
    for run in runs:
        if run.ingest:
            _ingest(lines, run)
        if run.queries:
            _queries(lines, run, duckdb)
        _rollups(lines, run)
        if run.growth:
            _growth(lines, run)
        skipped = run.rollups.skipped
        why = skipped.get("queries", "not run")
        rollup_targets(targets, run.label, run.rollups.cold, run.rollups.warm, why)
        why = skipped.get("ingest", "not run")
        ingest_targets(targets, run.label, run.rollups.ingest, run.rollups.ingest_raw_rate, why)
        no_rollup_targets(targets, run.label, run.queries, run.ingest, run.raw_rates)
        issue6_targets(earlier, run.label, run.ingest, run.raw_rates, run.queries)
    growth_verdict(kept, targets)
    lines += ["## Targets (issue 15)", "", *targets.lines(), ""]
    lines += ["## Earlier targets (issue 6: no rollups, result cache off)", "", *earlier.lines()]
    lines += ["", "## How this was run", "", *machine_facts(), f"- command: `{command}`", *how, ""]
    text = "\n".join(lines)
    for heading in KEPT_SECTIONS:
        if heading in kept:
            text = text.rstrip("\n") + "\n\n" + kept[heading]
    return text
