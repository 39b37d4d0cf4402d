"""Gunicorn settings for every Backdrop web process: ``backdrop serve`` and
``./start-app.sh`` load them (``-c python:backdrop.gunicorn_conf``), and the
repository's gunicorn.conf.py re-exports them for gunicorn started there.

- An access log on stdout, one line per request with its request id, beside
  the app's own log (``backdrop/access_log.py``).
- Gunicorn ≥ 24 opens a control socket at one fixed path per user; the read,
  write and admin apps (and test runs) would fight over it, and Backdrop does
  not use it.

Bind address, port and worker count are given on the command line by
``backdrop serve`` (defaults: 0.0.0.0, the app's port, 2 workers).
"""

from backdrop.access_log import TEXT_FORMAT, AccessLogger

accesslog = "-"
control_socket_disable = True

# Access lines carry the request id; JSON lines under BACKDROP_LOG_FORMAT=json.
access_log_format = TEXT_FORMAT
logger_class = AccessLogger
