"""Processes for the benchmarks: gunicorn apps, Datasette, the benchmark-only venv.

Everything listens on 127.0.0.1 only, on free ports; every wait is bounded in
time; every process started here is stopped by its own pid (``Server.stop``),
also when a run fails half-way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
BENCH_VENV = BENCH_DIR / ".venv"
GUNICORN = Path(sys.executable).with_name("gunicorn")
START_TIMEOUT = 60


class BenchmarkSetupError(RuntimeError):
    """The benchmark environment (e.g. the Datasette venv) could not be made."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_bench_venv() -> Path:
    """benchmarks/.venv with the extras of benchmarks/requirements.txt (Datasette,
    py-spy, pyinstrument), kept apart from the project's own dependencies.
    Reinstalls only when requirements.txt changes. Returns its bin directory."""
    requirements = BENCH_DIR / "requirements.txt"
    stamp = BENCH_VENV / ".installed"
    python = BENCH_VENV / "bin" / "python"
    try:
        if not python.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", "--without-pip", str(BENCH_VENV)],
                check=True,
                capture_output=True,
                timeout=120,
            )
            # pip from the project venv installs into the benchmark venv (no ensurepip needed).
        if not stamp.exists() or requirements.stat().st_mtime > stamp.stat().st_mtime:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "--python",
                    str(python),
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "-r",
                    str(requirements),
                ],
                check=True,
                capture_output=True,
                timeout=600,
            )
            stamp.touch()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        detail = getattr(error, "stderr", b"") or b""
        raise BenchmarkSetupError(
            f"could not build {BENCH_VENV} from {requirements}: {error}\n"
            f"{detail.decode(errors='replace')[-2000:]}"
        ) from error
    return BENCH_VENV / "bin"


class Server:
    """A child process serving HTTP on 127.0.0.1:port, logged to a file."""

    def __init__(
        self, name: str, argv: list[str], port: int, log_path: Path, env=None, wrapped=False
    ):
        self.name = name
        self.wrapped = wrapped
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            argv,
            cwd=os.environ.get("BENCH_APP_ROOT", ROOT),
            env=env or os.environ.copy(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_until_up(self, path: str = "/_status") -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited early:\n{self.log_path.read_text()[-3000:]}"
                )
            try:
                if requests.get(self.url + path, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {path} within {START_TIMEOUT}s")

    def server_pid(self) -> int:
        """The server's own pid (under a profiler, the profiler's child)."""
        if self.wrapped:
            children = _children(self.process.pid)
            if children:
                return children[0]
        return self.process.pid

    def stop(self) -> None:
        if self.wrapped and self.process.poll() is None:
            # Stop the profiled server first; the profiler then writes its file and exits.
            for child in _children(self.process.pid):
                os.kill(child, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def app_env(database_url: str, admin_token: str) -> dict[str, str]:
    """The apps' environment. ``BENCH_APP_ROOT`` (``run --app-root``) points the
    apps at another checkout, e.g. a scratch copy with a candidate fix, for
    before/after figures from the same harness."""
    env = {
        **os.environ,
        "BACKDROP_DATABASE_URL": database_url,
        "BACKDROP_ADMIN_TOKEN": admin_token,
        "BACKDROP_LOG_LEVEL": "WARNING",
        # A slow query on a loaded machine is a figure, not a 503.
        "BACKDROP_DATABASE_TIMEOUT": "300",
    }
    env.pop("BACKDROP_BROKER_URL", None)
    if os.environ.get("BENCH_APP_ROOT"):
        env["PYTHONPATH"] = os.environ["BENCH_APP_ROOT"]
    return env


def gunicorn_argv(app: str, port: int, workers: int) -> list[str]:
    return [
        str(GUNICORN),
        f"backdrop.{app}:create_app()",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "120",
    ]


def start_app(app: str, workers: int, env: dict[str, str], log_path: Path, wrap=()) -> Server:
    """gunicorn serving the read or write app; ``wrap`` prefixes the command
    (e.g. a profiler) and must exec gunicorn as its child."""
    port = free_port()
    argv = [*wrap, *gunicorn_argv(app, port, workers)]
    server = Server(app, argv, port, log_path, env, wrapped=bool(wrap))
    server.wait_until_up()
    return server


def start_datasette(bin_dir: Path, db_path: Path, log_path: Path) -> Server:
    """Datasette serving the same SQLite file, as a user would run it on a live
    (mutable) file; the time limit and row cap are raised so every benchmark
    query completes and returns its whole answer."""
    port = free_port()
    argv = [
        str(bin_dir / "datasette"),
        "serve",
        str(db_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--setting",
        "sql_time_limit_ms",
        "120000",
        "--setting",
        "max_returned_rows",
        "100000",
    ]
    server = Server("datasette", argv, port, log_path)
    server.wait_until_up("/-/versions.json")
    return server


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def process_tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue.extend(_children(current))
    return pids


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the resident memory of a process tree (gunicorn master and
    workers) every ``interval`` seconds until stopped; keeps the peak of the
    tree's sum (all resident pages, and anonymous ones only: SQLite's mmap of
    the database file is resident file cache, not heap) and each process's own
    high-water mark (VmHWM)."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.pid = pid
        self.interval = interval
        self.peak_total_kb = 0
        self.peak_anon_kb = 0  # heap and stacks only: no mmap'd database pages
        self.peak_process_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        pids = process_tree(self.pid)
        total = sum(_status_kb(pid, "VmRSS") for pid in pids)
        self.peak_total_kb = max(self.peak_total_kb, total)
        anon = sum(_status_kb(pid, "RssAnon") for pid in pids)
        self.peak_anon_kb = max(self.peak_anon_kb, anon)
        for pid in pids:
            self.peak_process_kb = max(self.peak_process_kb, _status_kb(pid, "VmHWM"))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()
