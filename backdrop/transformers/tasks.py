"""The worker's tasks: fan a written range out to one task per transform.

Arguments are JSON (a data set name, a transform id, ISO times); configs are
re-read when the task runs. A failing transform is logged with its data set,
transform and range and retried with exponential backoff; failures that no
retry can fix (unknown type, bad config, invalid output) are not retried.
Each task runs under the request id of the write that queued it (a message
header), so the worker's lines join the write's in the log.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

from celery import Celery, Task

from backdrop.core.catalog import Catalog
from backdrop.core.data_sets import Registry
from backdrop.core.records import parse_time
from backdrop.core.storage import open_engine
from backdrop.core.storage.base import StorageEngine
from backdrop.errors import BadRequest, NotFound
from backdrop.logging import request_id
from backdrop.settings import Settings
from backdrop.transformers.celery_app import DISPATCH_TASK, REQUEST_ID_HEADER, RUN_TASK
from backdrop.transformers.registry import UnknownTransform
from backdrop.transformers.runner import describe, log_failure, run_transform

log = logging.getLogger(__name__)

# Retrying cannot fix these: the config or the transform's output is wrong.
PERMANENT = (UnknownTransform, BadRequest, NotFound, ValueError, KeyError, TypeError)

_engines: dict[int, StorageEngine] = {}


def engine(settings: Settings) -> StorageEngine:
    """This process's engine (opened after the pool forks, never shared)."""
    pid = os.getpid()
    if pid not in _engines:
        _engines[pid] = open_engine(settings.database_url)
    return _engines[pid]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: str | None) -> datetime | None:
    return None if value is None else parse_time(value)


class TransformTask(Task):
    """Retries with backoff on failure, logs what failed, and logs under the
    request id the task was queued with (its own task id if none)."""

    autoretry_for = (Exception,)
    dont_autoretry_for = PERMANENT
    retry_backoff = 2
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 6
    acks_late = True

    def __call__(self, *args, **kwargs):
        token = request_id.set(getattr(self.request, REQUEST_ID_HEADER, None) or self.request.id)
        try:
            return super().__call__(*args, **kwargs)
        finally:
            request_id.reset(token)

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        log.warning("task %s%s failed (%r); retrying", self.name, list(args), exc)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        log.error("task %s%s failed for good: %r", self.name, list(args), exc)


def register(app: Celery, settings: Settings) -> None:
    """Declare the tasks on the worker's Celery app."""

    @app.task(name=DISPATCH_TASK, base=TransformTask, bind=True, shared=False)
    def dispatch(self, data_set: str, start: str | None, end: str | None) -> int:
        """Queue one run task per transform of ``data_set``, on the queue the
        dispatch came from (so workers of separate queues stay separate)."""
        queue = (self.request.delivery_info or {}).get("routing_key")
        transforms = Catalog(engine(settings)).list_transforms(data_set)
        for transform in transforms:
            run.apply_async(
                (data_set, transform["id"], start, end),
                queue=queue,
                headers={REQUEST_ID_HEADER: request_id.get()},
            )
        return len(transforms)

    @app.task(name=RUN_TASK, base=TransformTask, bind=True, shared=False)
    def run(self, data_set: str, transform_id: str, start: str | None, end: str | None) -> int:
        """Run one transform over [start, end]."""
        store = engine(settings)
        config = Registry(store).find_by_name(data_set)
        transform = next(
            (t for t in Catalog(store).list_transforms(data_set) if t["id"] == transform_id), None
        )
        if config is None or transform is None:
            log.info("transform %s of %s no longer exists; skipped", transform_id, data_set)
            return 0
        begin, finish = _time(start), _time(end)
        try:
            done = run_transform(store, config, transform, begin, finish)
        except Exception:
            attempt = self.request.retries + 1
            log_failure(data_set, transform, begin, finish, f" (attempt {attempt})")
            raise
        log.info(
            "transform %s (%s) of %s wrote %d record(s) to %s over %s – %s",
            transform_id,
            transform.get("type"),
            data_set,
            done.records,
            done.output,
            _iso(done.start),
            _iso(done.end),
            extra=describe(data_set, transform, begin, finish),
        )
        return done.records
