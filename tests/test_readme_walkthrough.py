"""Every shell block of the README, run as written against real apps.

Only the ports change (free ones instead of 3038/3039) and the database (a
temporary SQLite file, for the apps and the CLI alike); every command must
succeed and the answers must be the ones the README promises. A block right
after a ``<!-- readme-test: skip (why) -->`` line is not run: those start
processes that run until stopped (run_development.sh, the worker, mongod) or the
whole test suite, which has tests of its own (tests/test_run_development.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from backdrop.testing import start_app

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parent.parent / "README.md"


SKIP_MARKER = "<!-- readme-test: skip"


def shell_blocks() -> list[tuple[str, bool]]:
    """Every ```sh block of the README, in order, with whether it is skipped."""
    blocks, lines = [], README.read_text().splitlines()
    for index, line in enumerate(lines):
        if line.strip() != "```sh":
            continue
        end = lines.index("```", index + 1)
        skipped = index > 0 and lines[index - 1].startswith(SKIP_MARKER)
        blocks.append(("\n".join(lines[index + 1 : end]), skipped))
    return blocks


def walkthrough() -> str:
    text = README.read_text()
    section = text.split("## Walkthrough", 1)[1]
    return section.split("```sh", 1)[1].split("```", 1)[0]


def test_only_long_running_blocks_are_skipped():
    skipped = [block for block, skip in shell_blocks() if skip]
    assert len(skipped) == 3
    assert "./run_development.sh" in skipped[0] and "./start-app.sh worker" in skipped[1]
    assert "mongod --replSet" in skipped[2]  # no mongod can be installed where tests run


def json_documents(text: str) -> list:
    """The JSON documents curl and the CLI printed, skipping plain text lines."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    while position < len(text.rstrip()):
        try:
            document, position = decoder.raw_decode(text, position)
            documents.append(document)
        except json.JSONDecodeError:
            position = text.find("\n", position) + 1 or len(text)
        while position < len(text) and text[position].isspace():
            position += 1
    return documents


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_every_readme_block_works_as_written(tmp_path):
    env = {
        **os.environ,
        "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/walk.db",
        "BACKDROP_ADMIN_TOKEN": "dev-admin-token",
    }
    env.pop("BACKDROP_BROKER_URL", None)
    read = start_app("read", env, tmp_path / "read.log", workers=1)
    write = start_app("write", env, tmp_path / "write.log", workers=1)
    try:
        script = "\n".join(block for block, skip in shell_blocks() if not skip)
        script = script.replace("localhost:3038", read.url).replace("localhost:3039", write.url)
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=README.parent,
            env=env,
        )
    finally:
        read.stop()
        write.stop()
    assert run.returncode == 0, run.stderr
    answers = [d for d in json_documents(run.stdout) if isinstance(d, dict)]
    assert all(answer.get("status", "ok") == "ok" for answer in answers), run.stdout
    assert {"channel": "web", "_count": 2, "count:sum": 8} in [
        {k: row.get(k) for k in ("channel", "_count", "count:sum")}
        for answer in answers
        for row in answer.get("data", [])
    ]
    assert {"status": "ok", "message": "site-visits now contains 0 records"} in answers
    assert {"status": "ok", "message": "Deleted site-visits"} in answers
    assert "created old-visits" in run.stdout and "1 created, 0 skipped, 0 failed" in run.stdout
    transform = next(a for a in answers if isinstance(a, dict) and a.get("type") == "rollup")
    assert transform["output"] == {"data_group": "applications", "data_type": "weekly"}
    assert "site-visits\t/data/site/visits" in run.stdout
    assert "transform " in run.stdout
    upload = next(a for a in answers if "upload" in a)
    assert upload["upload"]["records"] == 2 and upload["upload"]["filename"] == "sales.csv"
    assert "pushed 1 records" in run.stdout and "pushed 2 records" in run.stdout
    assert [line.split() for line in run.stdout.splitlines() if line.startswith("north")] == [
        ["north", "2", "7"]
    ]
