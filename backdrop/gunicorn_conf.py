"""Gunicorn settings for every Backdrop web process: ``backdrop serve`` and
``./start-app.sh`` load them (``-c python:backdrop.gunicorn_conf``), and the
repository's gunicorn.conf.py re-exports them for gunicorn started there.

- An access log on stdout, one line per request with its request id, beside
  the app's own log (``backdrop/access_log.py``).
- Metrics across workers (``/metrics``, backdrop/metrics.py): each worker
  writes its samples to files in ``PROMETHEUS_MULTIPROC_DIR``. Unset, a fresh
  temporary directory is made for this server and removed when it stops; set,
  it is emptied at start (so give each app its own), so a restart never adds
  old counts to new ones.
- Gunicorn ≥ 24 opens a control socket at one fixed path per user; the read,
  write and admin apps (and test runs) would fight over it, and Backdrop does
  not use it.
- The serving model (backdrop/serving.py): ``gthread`` workers of
  64 threads each, idle keep-alive connections parked in a poller
  (no thread held) for ``keepalive`` seconds, every request read bounded in
  time, and long streamed responses never killed (the worker timeout only
  watches the worker's main loop).

Bind address, port and worker count are given on the command line by
``backdrop serve`` (defaults: 0.0.0.0, the app's port, 2 workers).
"""

from backdrop import multiprocess_metrics
from backdrop.access_log import TEXT_FORMAT, AccessLogger

# Serving model (see backdrop/serving.py). Enough threads per worker that a
# burst of slow clients, each cut off after seconds, leaves threads free.
worker_class = "backdrop.serving.Worker"
threads = 64
keepalive = 5
timeout = 30
graceful_timeout = 30

accesslog = "-"
control_socket_disable = True

# Access lines carry the request id; JSON lines under BACKDROP_LOG_FORMAT=json.
access_log_format = TEXT_FORMAT
logger_class = AccessLogger


def on_starting(server):
    """Before any worker exists: the metrics directory, empty."""
    server.backdrop_metrics_dir = multiprocess_metrics.prepare()


def child_exit(server, worker):
    """A worker is gone: its live gauges no longer count (its counters still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    multiprocess_metrics.remove(getattr(server, "backdrop_metrics_dir", None))
