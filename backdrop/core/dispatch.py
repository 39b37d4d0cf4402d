"""The after-write hook the write use-cases call: the one contract between a
committed write and the transforms that derive other data sets from it.

``backdrop.transformers.dispatch`` implements it (in-process, or queued on a
broker); the core only knows this Protocol, so it never imports Celery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Dispatcher(Protocol):
    def dispatch(self, data_set: str, start: datetime | None, end: datetime | None) -> None:
        """Run (or enqueue) the transforms of ``data_set`` over [start, end].
        Never raises: a failure is logged with the range to re-run."""
