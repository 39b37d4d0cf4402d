"""The benchmark smoke mode, end to end: tiny sizes, real gunicorn apps and
Datasette, and a results table with every query answered alike by all sides.

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

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> str:
    try:
        ensure_bench_venv()
    except BenchmarkSetupError as error:
        pytest.skip(f"benchmarks/.venv (Datasette) could not be built, e.g. no network: {error}")
    output = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return output.read_text()


def _row(text: str, first_cell: str) -> list[str]:
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row starting {first_cell!r} in:\n{text}")


def test_ingest_rows_have_rates_and_ratios_for_each_size_and_worker_count(results):
    for size in ("1,000", "3,000"):
        rows = [
            [c.strip() for c in line.strip("|").split("|")]
            for line in results.splitlines()
            if line.startswith(f"| {size} |") and line.count("|") == 11
        ]
        assert [row[1] for row in rows] == ["1", "2"]
        for row in rows:
            assert row[2] == "3"  # median of three runs at small sizes
            api_rate, raw_rate, ratio = (float(c.replace(",", "")) for c in row[3:6])
            assert api_rate > 0 and raw_rate > 0
            assert ratio == pytest.approx(api_rate / raw_rate, abs=0.01)


def test_every_query_is_timed_on_all_three_sides_with_the_same_answer(results):
    for case in QUERIES:
        row = _row(results, case.description)
        assert row[-1] == "sql ✓ datasette ✓", row
        api, sql, datasette = (re.fullmatch(r"([\d.]+) / ([\d.]+)", c) for c in row[3:6])
        assert api and sql and datasette, row
        assert float(row[6]) > 0 and float(row[8]) > 0


def test_growth_query_is_measured_at_both_sizes_and_compared(results):
    for size in ("1,000", "3,000"):
        (row,) = [
            [c.strip() for c in line.strip("|").split("|")]
            for line in results.splitlines()
            if line.startswith(f"| {size} |") and line.count("|") == 7
        ]
        assert int(row[1].replace(",", "")) > 0  # records in the 7-day window
        assert re.fullmatch(r"[\d.]+ / [\d.]+", row[2]), row
    assert re.search(r"API time at 3,000 ÷ at 1,000: \*\*[\d.]+\*\*", results)


def test_targets_table_gives_a_verdict_for_every_target(results):
    verdicts = re.findall(r"\| (met|\*\*missed\*\*) \|$", results, re.MULTILINE)
    # 4 ingest runs + RSS + 2 per query (SQL, Datasette) + growth
    assert len(verdicts) == 4 + 1 + 2 * len(QUERIES) + 1
    assert "command: `.venv/bin/python -m benchmarks.run --smoke" in results
