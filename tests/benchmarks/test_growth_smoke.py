"""The on-demand 10^7 growth benchmark at tiny sizes, so the script keeps
working: it writes its own section (figures, or why the rollup could not be
measured) and keeps the rest of the results file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_growth_benchmark_writes_its_section_and_keeps_the_others(tmp_path):
    output = tmp_path / "RESULTS.md"
    output.write_text("# Benchmark results\n\n## SQLite: ingest\n\nkept\n")
    command = [
        sys.executable, "-m", "benchmarks.growth", "--records", "3000", "--base", "1000",
        "--engines", "sqlite", "--reps", "3", "--budget", "2", "--output", str(output),
    ]  # fmt: skip
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout + run.stderr
    text = output.read_text()
    assert "## SQLite: ingest\n\nkept\n" in text
    section = text[text.index("## Growth to 10^7") :]
    rows = re.findall(r"^\| SQLite \| ([\d,]+) \| (.*) \|$", section, re.M)
    assert [n for n, _ in rows] == ["1,000", "3,000"]
    measured = all(re.search(r"[\d.]+ / [\d.]+", cells) for _, cells in rows)
    if measured:
        assert re.search(r"^- SQLite: time at 3,000 ÷ at 1,000: \*\*[\d.]+\*\*", section, re.M)
    else:
        assert all("not measured: " in cells for _, cells in rows), section
