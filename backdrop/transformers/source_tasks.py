"""The worker's source tasks, and beat's one schedule entry (SPEC 12).

Beat has a single entry, a tick every BACKDROP_SOURCES_TICK_SECONDS; the tick
task reads the sources from the database and queues one run task per source
that is due. So the schedule lives in the database: a source added through
the API is picked up at the next tick, with no restart of beat. A run task
takes the source's lock and checks again that the source is still due, so a
source is never run twice at once nor twice for one due time.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

from celery import Celery

from backdrop.core.dispatch import Dispatcher
from backdrop.core.sources.fetch import Limits
from backdrop.core.sources.run import run_source
from backdrop.core.sources.store import AlreadyRunning, Sources
from backdrop.errors import NotFound
from backdrop.settings import Settings
from backdrop.transformers.celery_app import add_beat_entry
from backdrop.transformers.dispatch import make_dispatcher
from backdrop.transformers.tasks import engine

log = logging.getLogger(__name__)

TICK_TASK = "backdrop.sources.tick"
RUN_SOURCE_TASK = "backdrop.sources.run"


_dispatchers: dict[int, Dispatcher] = {}


def dispatcher(settings: Settings) -> Dispatcher:
    """This process's dispatcher for the transforms of pulled records."""
    pid = os.getpid()
    if pid not in _dispatchers:
        _dispatchers[pid] = make_dispatcher(settings, engine(settings))
    return _dispatchers[pid]


def schedule(app: Celery, settings: Settings) -> None:
    """Beat's entry: the tick, expiring unless taken before the next one."""
    add_beat_entry(
        app,
        "backdrop-sources-tick",
        TICK_TASK,
        settings.sources_tick_seconds,
        settings.sources_queue,
    )


def register(app: Celery, settings: Settings) -> None:
    schedule(app, settings)

    @app.task(name=TICK_TASK, bind=True, shared=False, ignore_result=True)
    def tick(self) -> int:
        """Queue a run of each due source, on the queue the tick came from."""
        queue = (self.request.delivery_info or {}).get("routing_key") or settings.sources_queue
        now = datetime.now(UTC)
        due = Sources(engine(settings)).due(now)
        for source in due:
            run.apply_async((source.id, now.isoformat()), queue=queue)
        return len(due)

    @app.task(name=RUN_SOURCE_TASK, shared=False, ignore_result=True, acks_late=True)
    def run(source_id: str, due_at: str) -> str:
        store = engine(settings)
        try:
            outcome = run_source(store, source_id, Limits.from_settings(settings), os.environ,
                                 dispatcher(settings),
                                 if_due_at=datetime.fromisoformat(due_at))  # fmt: skip
        except AlreadyRunning:
            log.info("source %s is already running; this run is skipped", source_id)
            return "running"
        except NotFound:
            log.info("source %s was removed before it ran", source_id)
            return "removed"
        if outcome is None:
            return "not due"
        log.log(logging.WARNING if outcome["status"] == "failed" else logging.INFO,
                "source %s of %s: %s %s", source_id, outcome["data_set"], outcome["status"],
                outcome["error"] or f"({outcome['records']} records)")  # fmt: skip
        return str(outcome["status"])
