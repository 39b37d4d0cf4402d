"""Schemathesis against the running read and write apps (gunicorn, 2 workers
each, one SQLite file): requests generated from each app's /openapi.json,
valid and not, and every answer checked against that document.

Checks: no 5xx, only documented status codes, documented content types and
headers, bodies matching the documented schemas. The path parameters name a
data set made here most of the time (tests/contract/schemathesis.toml), so
requests reach the handlers rather than only the 404s. The seed is fixed so a
failure reproduces; BACKDROP_SCHEMATHESIS_SEED and _EXAMPLES change the run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from backdrop.testing import start_app

HERE = Path(__file__).parent
TOKEN = "contract-token"  # the admin token and the data set's, so both kinds of route are reached
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
RECORDS = [
    {"_id": "r1", "_timestamp": "2024-01-01T00:00:00Z", "count": 1, "kind": "a"},
    {"_id": "r2", "_timestamp": "2024-01-09T00:00:00Z", "count": 2, "kind": "b"},
]
SUMMARY = re.compile(r"^\s*(\d+) generated, (.*)$", re.MULTILINE)


@pytest.fixture
def apps(tmp_path):
    env = {
        **os.environ,
        "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/contract.db",
        "BACKDROP_ADMIN_TOKEN": TOKEN,
    }
    started = {}
    try:
        for name in ("write", "read"):
            started[name] = start_app(name, env, tmp_path / f"{name}.log")
        write, auth = started["write"].url, {"Authorization": f"Bearer {TOKEN}"}
        body = {"name": "st", "bearer_token": TOKEN}
        assert requests.post(f"{write}/data-sets", json=body, headers=auth, timeout=10).ok
        assert requests.post(f"{write}/data/st/st", json=RECORDS, headers=auth, timeout=10).ok
        yield started
    finally:
        for app in started.values():
            app.stop()


def _run(url: str, workdir: Path) -> tuple[int, str]:
    """Schemathesis's CLI against ``url``; its run cache goes to ``workdir``."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "--no-color",
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        os.environ.get("BACKDROP_SCHEMATHESIS_EXAMPLES", "25"),
        "--seed",
        os.environ.get("BACKDROP_SCHEMATHESIS_SEED", "1"),
        "--workers",
        "2",
        "--request-timeout",
        "10",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, cwd=workdir
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.slow
def test_generated_requests_get_only_documented_answers(apps, capsys, tmp_path):
    counts = {}
    # The read app first: the write run deletes the data set sooner or later.
    for name in ("read", "write"):
        code, output = _run(apps[name].url, tmp_path)
        summary = SUMMARY.search(output)
        assert code == 0 and summary, output[-6000:]
        counts[name] = int(summary[1])
        assert summary[2].strip() == f"{summary[1]} passed", output[-6000:]
        for line in apps[name].log().splitlines():
            assert "Traceback" not in line and "Unhandled error" not in line, apps[name].log()
    with capsys.disabled():
        sys.stdout.write(f"\nschemathesis: {counts} cases, all passed\n")
    assert sum(counts.values()) >= 1000
