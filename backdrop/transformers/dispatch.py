"""After-write hook: hands a written time range to the data set's transforms."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from backdrop.core.storage.base import StorageEngine
from backdrop.settings import Settings


class Dispatcher(Protocol):
    def dispatch(self, data_set: str, start: datetime | None, end: datetime | None) -> None:
        """Run (or enqueue) the transforms of ``data_set`` over [start, end].
        Never raises: a failure is logged with the range to re-run."""


class NoTransforms:
    """Placeholder until transforms exist: nothing to run."""

    def dispatch(self, data_set: str, start: datetime | None, end: datetime | None) -> None:
        return None


def make_dispatcher(settings: Settings, engine: StorageEngine) -> Dispatcher:
    return NoTransforms()
