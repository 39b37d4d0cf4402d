"""Rollup builds on the worker (a broker is configured): one task per build,
and a sweep that the worker queues when it starts and beat every minute.

``backdrop.build_rollup(name)`` builds one data set's rollup; the sweep,
``backdrop.rollups.sweep``, sets and builds every rollup that a config
declares and the engine has not built (a build lost with its process, a
queueing that failed), one after another.
"""

from __future__ import annotations

import logging

from celery import Celery

from backdrop.core import rollup_builds
from backdrop.core.data_sets import Registry
from backdrop.core.rollups import RollupSpec
from backdrop.core.storage import open_engine
from backdrop.core.storage.base import StorageEngine
from backdrop.settings import Settings
from backdrop.transformers.celery_app import add_beat_entry
from backdrop.transformers.dispatch import Enqueue as Broker
from backdrop.transformers.tasks import engine

log = logging.getLogger(__name__)

BUILD_TASK = "backdrop.build_rollup"
SWEEP_TASK = "backdrop.rollups.sweep"
SWEEP_SECONDS = 60


class Enqueue:
    """``rollup_builds.Builds`` that queues a build task for the worker."""

    def __init__(self, broker_url: str):
        self.broker = Broker(broker_url)

    def start(self, data_set: str) -> None:
        try:
            self.broker.celery.send_task(BUILD_TASK, args=[data_set])
        except Exception as error:
            rollup_builds.log_failure(data_set, error)

    def close(self) -> None:
        self.broker.close()


def make_builds(settings: Settings, store: StorageEngine) -> rollup_builds.Builds:
    """The worker's builds with a broker; without one, a thread of this
    process on an engine of its own, without the web apps' database timeout."""
    if settings.broker_url:
        return Enqueue(settings.broker_url)
    return rollup_builds.InThread(lambda: open_engine(settings.database_url))


def schedule(app: Celery, settings: Settings) -> None:
    """Add beat's sweep entry (on the queue of the sources tick), expiring
    unless taken before the next one."""
    add_beat_entry(app, "backdrop-rollups-sweep", SWEEP_TASK, SWEEP_SECONDS, settings.sources_queue)


def register(app: Celery, settings: Settings) -> None:
    schedule(app, settings)
    given_up: dict[str, RollupSpec] = {}  # this process's sweeps skip these specs

    @app.task(name=BUILD_TASK, shared=False, ignore_result=True, acks_late=True)
    def build_rollup(data_set: str) -> bool:
        """Build the rollup of ``data_set``; False if it declares none (any more)."""
        return rollup_builds.build(engine(settings), data_set).ready

    @app.task(name=SWEEP_TASK, shared=False, ignore_result=True)
    def sweep() -> list[str]:
        """Set and build every rollup not built; the names built."""
        built = Registry(engine(settings)).sweep_rollups(given_up)
        return [b.data_set for b in built]
