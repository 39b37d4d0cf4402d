"""Gunicorn settings for any gunicorn started from the repository root: the
same as ``backdrop serve`` and ``./start-app.sh`` use (backdrop/gunicorn_conf.py)."""

from backdrop.gunicorn_conf import *  # noqa: F403 - re-export every gunicorn setting
