"""./run_development.sh as a newcomer runs it: a taken port is a clear error
before anything starts, and a free set of ports ends in the ready banner."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from backdrop.testing import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def start(tmp_path, read_port, write_port):
    env = {
        **os.environ,
        "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/dev.db",
        "BACKDROP_READ_PORT": str(read_port),
        "BACKDROP_WRITE_PORT": str(write_port),
        "BACKDROP_ADMIN_PORT": str(free_port()),
    }
    env.pop("BACKDROP_ADMIN_TOKEN", None)
    return subprocess.Popen(
        ["./run_development.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def test_a_taken_port_is_a_clear_error_and_nothing_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start(tmp_path, free_port(), port)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert f"port {port} (the write app) is already in use" in output
    assert f"BACKDROP_WRITE_PORT={port + 100}" in output
    assert "Starting gunicorn" not in output


def test_the_ready_banner_names_every_app_the_token_and_the_docs(tmp_path):
    read_port, write_port = free_port(), free_port()
    process = start(tmp_path, read_port, write_port)
    lines = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("==========") and any("Backdrop is ready" in x for x in lines[:-1]):
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        process.stdout.close()
    output = "".join(lines)
    assert "Backdrop is ready" in output, output
    assert f"read   http://127.0.0.1:{read_port}/" in output
    assert f"write  http://127.0.0.1:{write_port}/" in output
    assert f"http://127.0.0.1:{read_port}/docs" in output
    assert (
        "  admin  http://127.0.0.1:" in output
        and "(web UI: sign in with the admin token)" in output
    )
    assert "admin token: dev-admin-token" in output
    assert f"sqlite:///{tmp_path}/dev.db" in output
