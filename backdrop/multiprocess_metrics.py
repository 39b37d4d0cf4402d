"""The directory where prometheus-client's multiprocess mode keeps samples.

A server with several processes (gunicorn workers, Celery's pool) counts in
files there, one per process, and its scrape sums them. It must be chosen
before any process imports prometheus-client, so the gunicorn config and the
Celery worker module call ``prepare`` first. No prometheus-client import here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own variable


def prepare() -> str | None:
    """Use ``PROMETHEUS_MULTIPROC_DIR``, emptied (a restart must not add old
    counts to new ones), or make a temporary one; returns the path when it was
    made here, for ``remove`` at shutdown."""
    path = os.environ.get(VARIABLE)
    if not path:
        made = tempfile.mkdtemp(prefix="backdrop-metrics-")
        os.environ[VARIABLE] = made  # inherited by every forked process
        return made
    Path(path).mkdir(parents=True, exist_ok=True)
    for stale in Path(path).glob("*.db"):
        stale.unlink()
    return None


def remove(made: str | None) -> None:
    if made:
        shutil.rmtree(made, ignore_errors=True)
