"""After-write hook: hands a written time range to the data set's transforms.

Without a broker the transforms run in the writing process, right after the
write has committed; with one, a single dispatch task per batch is queued
for the worker. Either way ``dispatch`` never raises: failures are logged
with the data set and the range to re-run.
"""

from __future__ import annotations

import logging
from datetime import datetime

import kombu.pools
from celery import Celery
from kombu.utils.collections import eqhash

from backdrop.core.dispatch import Dispatcher
from backdrop.core.storage.base import StorageEngine
from backdrop.logging import request_id
from backdrop.settings import Settings
from backdrop.transformers.celery_app import DISPATCH_TASK, REQUEST_ID_HEADER, make_celery
from backdrop.transformers.runner import TransformsFailed, log_failure, rerun_hint, run_all

log = logging.getLogger(__name__)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


class InProcess:
    """No broker: run the transforms now, in this process."""

    def __init__(self, engine: StorageEngine):
        self.engine = engine

    def dispatch(self, data_set: str, start: datetime | None, end: datetime | None) -> None:
        try:
            run_all(self.engine, data_set, start, end)
        except TransformsFailed:
            pass  # run_all logged each failed transform with its re-run command
        except Exception:
            log_failure(data_set, None, start, end)


class Enqueue:
    """A broker is configured: queue one dispatch task for the worker."""

    def __init__(self, broker_url: str):
        self.broker_url = broker_url
        self._celery: Celery | None = None

    @property
    def celery(self) -> Celery:
        # Built on first use, so forked app workers each get their own connections.
        if self._celery is None:
            self._celery = make_celery(self.broker_url)
        return self._celery

    def close(self) -> None:
        """Release the broker connections (at shutdown, or between tests)."""
        if self._celery is None:
            return
        # Celery keeps broker connections in kombu's process-wide pools, keyed
        # by broker URL, and Celery.close() leaves them open: close ours and
        # drop them so a later dispatcher for the same broker starts afresh.
        key = eqhash(self._celery.connection_for_write())
        for group in (kombu.pools.producers, kombu.pools.connections):
            pool = dict.pop(group, key, None)
            if pool is not None:
                pool.force_close_all()
        self._celery.close()
        self._celery = None

    def dispatch(self, data_set: str, start: datetime | None, end: datetime | None) -> None:
        try:
            self.celery.send_task(
                DISPATCH_TASK,
                args=[data_set, _iso(start), _iso(end)],
                headers={REQUEST_ID_HEADER: request_id.get()},
            )
        except Exception as error:
            log.error(
                "could not queue the transforms of %s over %s – %s (%s); re-run: %s",
                data_set,
                _iso(start),
                _iso(end),
                type(error).__name__,
                rerun_hint(data_set, start, end),
                extra={"data_set": data_set, "start": _iso(start), "end": _iso(end)},
            )


def make_dispatcher(settings: Settings, engine: StorageEngine) -> Dispatcher:
    if settings.broker_url:
        return Enqueue(settings.broker_url)
    return InProcess(engine)
