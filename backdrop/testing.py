"""Real Backdrop processes for tests, features and benchmarks.

Starting the apps under gunicorn on a free local port, waiting until they
answer, and always stopping them: the same few steps every end-to-end check
needs, kept here once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A local TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate ``process`` (its whole group if it leads one), then kill it if
    it lingers."""
    if process.poll() is not None:
        return
    group = os.getpgid(process.pid) == process.pid
    signal_to = (lambda sig: os.killpg(process.pid, sig)) if group else process.send_signal
    signal_to(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_to(signal.SIGKILL)
        process.wait(timeout=timeout)


@dataclass
class AppProcess:
    """A read or write app running under gunicorn."""

    process: subprocess.Popen
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process)

    def kill(self) -> None:
        """SIGKILL the master and its workers at once: a crash, not a shutdown."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        workers = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        for pid in (self.process.pid, *workers):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)


def start_app(
    app: str,
    env: dict[str, str],
    log_path: Path,
    *,
    workers: int = 2,
    timeout: float = 30,
    port: int | None = None,
) -> AppProcess:
    """Start ``backdrop.<app>:create_app()`` under gunicorn on a free port (or
    ``port``, to restart an app where its clients expect it) and return once
    ``/_status`` answers (with any status: a broken database is something a
    test may want to see)."""
    port = port or free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv: this interpreter running gunicorn
            [
                sys.executable,
                "-m",
                "gunicorn",
                f"backdrop.{app}:create_app()",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return wait_until_answering(
        AppProcess(process, f"http://127.0.0.1:{port}", log_path), app, timeout
    )


def wait_until_answering(running: AppProcess, app: str, timeout: float = 30) -> AppProcess:
    """Return ``running`` once its ``/_status`` answers; stop it and raise,
    with its log, if it exits or does not answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"the {app} app exited early:\n{running.log()}")
        try:
            requests.get(f"{running.url}/_status", timeout=5)
            return running
        except requests.RequestException:
            time.sleep(0.1)
    running.stop()
    raise RuntimeError(f"the {app} app did not answer within {timeout}s:\n{running.log()}")
