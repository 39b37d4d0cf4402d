"""The README's curl walkthrough, run as written against real apps.

Only the ports change (free ones instead of 3038/3039); every curl must
succeed and the answers must be the ones the walkthrough promises.
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


def walkthrough() -> str:
    text = README.read_text()
    section = text.split("## Walkthrough", 1)[1]
    return section.split("```sh", 1)[1].split("```", 1)[0]


def json_documents(text: str) -> list:
    """The JSON documents curl printed back to back."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    while position < len(text.rstrip()):
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
        while position < len(text) and text[position].isspace():
            position += 1
    return documents


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_readme_walkthrough_works_as_written(tmp_path):
    env = {
        **os.environ,
        "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/walk.db",
        "BACKDROP_ADMIN_TOKEN": "dev-admin-token",
    }
    env.pop("BACKDROP_BROKER_URL", None)
    read = start_app("read", env, tmp_path / "read.log", workers=1)
    write = start_app("write", env, tmp_path / "write.log", workers=1)
    try:
        script = walkthrough()
        script = script.replace("localhost:3038", read.url).replace("localhost:3039", write.url)
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        read.stop()
        write.stop()
    assert run.returncode == 0, run.stderr
    answers = json_documents(run.stdout)
    assert all(answer.get("status", "ok") == "ok" for answer in answers), run.stdout
    assert {"channel": "web", "_count": 2, "count:sum": 8} in [
        {k: row.get(k) for k in ("channel", "_count", "count:sum")}
        for answer in answers
        for row in answer.get("data", [])
    ]
    assert answers[-2] == {"status": "ok", "message": "site-visits now contains 0 records"}
    assert answers[-1] == {"status": "ok", "message": "Deleted site-visits"}
