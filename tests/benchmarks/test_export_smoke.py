"""The export benchmark at tiny sizes, so the script keeps working; the real
figures come from ``python -m benchmarks.export`` (never run by the suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_export_benchmark_writes_its_section_and_keeps_the_others(tmp_path):
    output = tmp_path / "RESULTS.md"
    output.write_text("# Benchmark results\n\n## Ingest\n\nkept\n")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.export",
            "--records",
            "3000",
            "--csv-records",
            "2500",
            "--reps",
            "2",
            "--output",
            str(output),
        ],  # fmt: skip
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    text = output.read_text()
    assert "## Ingest\n\nkept" in text and "## Export" in text
    assert "| last |" in text and "Streamed `?format=csv` of 2,500 records" in text
