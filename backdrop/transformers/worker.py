"""The Celery app for ``celery -A backdrop.transformers.worker worker`` (and ``beat``).

The broker is BACKDROP_BROKER_URL (``amqp://…`` or ``redis://…``). Only the
``backdrop`` logger is configured; Celery keeps its own logging and never
takes over the root logger.
"""

from __future__ import annotations

import logging

from backdrop.logging import configure_logging
from backdrop.settings import Settings, SettingsError
from backdrop.transformers import source_tasks, tasks
from backdrop.transformers.celery_app import make_celery

settings = Settings.from_env()
if not settings.broker_url:
    raise SettingsError(
        "BACKDROP_BROKER_URL is not set: the worker needs a broker (amqp://… or redis://…); "
        "without one, transforms run inside the write app"
    )
configure_logging(settings)
# Celery puts its own handler on the root logger; lines of ours go out once, in our format.
logging.getLogger("backdrop").propagate = False
app = make_celery(settings.broker_url)
tasks.register(app, settings)
source_tasks.register(app, settings)  # and beat's schedule: `celery -A … beat`
