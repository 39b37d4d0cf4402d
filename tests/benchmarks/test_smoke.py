"""The benchmark smoke mode, end to end: tiny sizes, real gunicorn apps on
SQLite and (when reachable) PostgreSQL, Datasette and the DuckDB reference,
and a results file with every query answered alike by all sides and a verdict
for every target.

This keeps ``benchmarks/`` working; the real figures come from a full run
(``.venv/bin/python -m benchmarks.run``), which the test suite never starts.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.harness import BenchmarkSetupError, ensure_bench_venv
from benchmarks.queries import QUERIES

ROOT = Path(__file__).resolve().parents[2]
PAIR = r"[\d.]+ / [\d.]+"  # p50 / p95
KEPT = "## Uploads (issue 10)\n\nhand-written notes, kept\n"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> str:
    try:
        ensure_bench_venv()
    except BenchmarkSetupError as error:
        pytest.skip(f"benchmarks/.venv could not be built (e.g. no network): {error}")
    output = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    output.write_text(f"# Benchmark results\n\n## SQLite: ingest\n\nold\n\n{KEPT}")
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return output.read_text()


def _engines(text: str) -> list[str]:
    return re.findall(r"^## (SQLite|PostgreSQL): ingest$", text, re.M)


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no section {heading!r} in:\n{text}"
    return match.group(1)


def _rows(section: str, cells: int) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| ") and line.count("|") == cells + 1 and "---" not in line
    ][1:]  # without the header


def test_sqlite_always_and_postgresql_when_reachable_are_benchmarked(results):
    engines = _engines(results)
    assert engines[0] == "SQLite"
    assert set(engines) <= {"SQLite", "PostgreSQL"}


def test_ingest_rows_have_rates_and_ratios_for_each_size_and_worker_count(results):
    for engine in _engines(results):
        rows = _rows(_section(results, f"{engine}: ingest"), 10)
        assert [(row[0], row[1]) for row in rows] == [
            ("1,000", "1"), ("1,000", "2"), ("3,000", "1"), ("3,000", "2"),
        ]  # fmt: skip
        for row in rows:
            api_rate, raw_rate, ratio = (float(c.replace(",", "")) for c in row[3:6])
            assert api_rate > 0 and raw_rate > 0
            assert ratio == pytest.approx(api_rate / raw_rate, abs=0.01)


def test_every_query_is_timed_on_every_side_with_the_same_answer(results):
    for engine in _engines(results):
        heading = f"{engine}: queries over 3,000 records, no rollups (result cache off)"
        section = _section(results, heading)
        expected = "sql ✓ datasette ✓ duckdb ✓" if engine == "SQLite" else "sql ✓ duckdb ✓"
        for case in QUERIES:
            (row,) = [r for r in _rows(section, 11) if r[0] == case.description]
            assert row[-1] == expected, row
            timed = [row[3], row[4], row[6]] + ([row[5]] if engine == "SQLite" else [])
            assert all(re.fullmatch(PAIR, cell) for cell in timed), row


def test_rollups_are_measured_with_the_same_answers_or_say_why_not(results):
    for engine in _engines(results):
        section = _section(results, f"{engine}: rollups")
        rows = _rows(section, 8)
        if not rows:
            assert re.search(r"^- queries with rollups not measured: .+", section, re.M), section
            continue
        assert len(rows) == len(QUERIES) + 1  # the six shapes and the growth window
        for row in rows:
            cold, warm = row[1], row[2]
            assert re.fullmatch(PAIR, cold) and re.fullmatch(PAIR, warm), row
            assert "✗" not in row[-1] and "no rollup ✓" in row[-1], row


def test_growth_query_is_measured_at_both_sizes_and_compared(results):
    for engine in _engines(results):
        heading = f"{engine}: growth of one 7-day-window grouped query (no rollups)"
        section = _section(results, heading)
        rows = _rows(section, 5)
        assert [row[0] for row in rows][:2] == ["1,000", "3,000"]
        assert all(int(row[1].replace(",", "")) > 0 for row in rows)
        assert re.search(r"API time at 3,000 ÷ at 1,000: \*\*[\d.]+\*\*", section)


def test_targets_table_gives_a_verdict_for_every_target_of_the_issue(results):
    section = _section(results, "Targets (issue 15)")
    verdicts = re.findall(r"\| (met|\*\*missed\*\*|not measured: [^|]+) \|$", section, re.M)
    per_engine = [r for r in _rows(section, 3) if r[0].startswith(("SQLite", "PostgreSQL"))]
    assert len(verdicts) == len(_rows(section, 3)) and per_engine
    for engine in _engines(results):
        names = " ".join(r[0] for r in per_engine if r[0].startswith(engine))
        assert "cold" in names and "warm" in names and "ingest with rollups" in names
    assert any("10^7" in r[0] for r in _rows(section, 3))


def test_sections_written_by_other_scripts_are_kept(results):
    assert KEPT in results
    assert "old" not in _section(results, "SQLite: ingest")
    assert "command: `.venv/bin/python -m benchmarks.run --smoke" in results
