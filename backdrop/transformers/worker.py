"""The Celery app for ``celery -A backdrop.transformers.worker worker`` (and ``beat``).

The broker is BACKDROP_BROKER_URL (``amqp://…`` or ``redis://…``). Only the
``backdrop`` logger is configured; Celery keeps its own logging and never
takes over the root logger. With BACKDROP_WORKER_METRICS_PORT the worker's
main process serves Prometheus metrics summed over its pool's processes.
"""

from __future__ import annotations

import logging

from celery import signals

from backdrop import multiprocess_metrics
from backdrop.logging import configure_logging
from backdrop.settings import Settings, SettingsError

settings = Settings.from_env()
if not settings.broker_url:
    raise SettingsError(
        "BACKDROP_BROKER_URL is not set: the worker needs a broker (amqp://… or redis://…); "
        "without one, transforms run inside the write app"
    )
# Before anything imports prometheus-client (the tasks do): the pool's processes
# then count in files that the metrics server of the main process sums.
metrics_dir = multiprocess_metrics.prepare() if settings.worker_metrics_port else None

from backdrop import metrics  # noqa: E402 - after the metrics directory is chosen
from backdrop.transformers import rollup_tasks, source_tasks, tasks  # noqa: E402
from backdrop.transformers.celery_app import make_celery  # noqa: E402

configure_logging(settings)
# Celery puts its own handler on the root logger; lines of ours go out once, in our format.
logging.getLogger("backdrop").propagate = False
app = make_celery(settings.broker_url)
tasks.register(app, settings)
source_tasks.register(app, settings)  # and beat's schedule: `celery -A … beat`
rollup_tasks.register(app, settings)  # and its entry in beat's schedule


@signals.worker_ready.connect
def sweep_rollups(**_: object) -> None:
    """Build what a worker that stopped mid-build left unbuilt, now rather
    than at beat's next sweep (or never, without beat)."""
    app.send_task(rollup_tasks.SWEEP_TASK, queue=settings.sources_queue)


@signals.worker_ready.connect
def serve_metrics(**_: object) -> None:
    if settings.worker_metrics_port:
        metrics.serve(settings.worker_metrics_port)
        logging.getLogger(__name__).info(
            "metrics on http://0.0.0.0:%d/metrics", settings.worker_metrics_port
        )


@signals.worker_shutdown.connect
def remove_metrics_dir(**_: object) -> None:
    multiprocess_metrics.remove(metrics_dir)
