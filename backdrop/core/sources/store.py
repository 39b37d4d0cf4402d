"""Sources, their state and their runs as documents (kinds in ``KINDS``).

- ``source/<id>``: the config (``SourceConfig.body``); ids sort oldest first;
- ``source_state/<id>``: what the last run did and which document it stored
  (ETag, Last-Modified, SHA-256), so an unchanged file is skipped;
- ``source_run/<id>:<start>``: one document per run, newest kept
  ``KEEP_RUNS``;
- ``source_lock/<id>``: held while a run is in progress, taken with a
  create-only put, so two workers (or beat and the CLI) never run one source
  at once; a lock older than ``STALE_LOCK`` (its holder died) is taken over.
"""

from __future__ import annotations

import builtins
import os
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from backdrop.core.sources import schedule
from backdrop.core.sources.config import SourceConfig
from backdrop.core.storage.base import JSONObject, StorageEngine
from backdrop.errors import Conflict, NotFound, VersionConflict

SOURCE, STATE, RUN, LOCK = "source", "source_state", "source_run", "source_lock"
KINDS = (SOURCE, STATE, RUN, LOCK)
KEEP_RUNS = 100
STALE_LOCK = timedelta(hours=2)


class AlreadyRunning(Conflict):
    """Another process is running this source now."""


def new_id() -> str:
    return f"{time.time_ns():016x}{os.urandom(3).hex()}"


def now() -> datetime:
    return datetime.now(UTC)


class Sources:
    def __init__(self, engine: StorageEngine):
        self.documents = engine.documents

    def add(self, config: SourceConfig) -> None:
        self.documents.put(SOURCE, config.id, config.body(), expected_version=0)

    def get(self, source_id: str) -> SourceConfig:
        document = self.documents.get(SOURCE, source_id)
        if document is None:
            raise NotFound(f"No source with id {source_id!r}")
        return SourceConfig.from_body(document.body)

    def list(self, data_set: str | None = None) -> builtins.list[SourceConfig]:
        filters = {"data_set": data_set} if data_set else None
        return [SourceConfig.from_body(d.body) for d in self.documents.list(SOURCE, filters)]

    def remove(self, source_id: str) -> bool:
        removed = self.documents.delete(SOURCE, source_id)
        self.documents.delete(STATE, source_id)
        for run in self.documents.list(RUN, {"source": source_id}):
            self.documents.delete(RUN, run.id)
        return removed

    def state(self, source_id: str) -> JSONObject:
        document = self.documents.get(STATE, source_id)
        return dict(document.body) if document else {}

    def states(self) -> dict[str, JSONObject]:
        """Every source's state by id, in one query (for sweeps over all sources)."""
        return {document.id: dict(document.body) for document in self.documents.list(STATE)}

    def set_state(self, source_id: str, state: JSONObject) -> None:
        self.documents.put(STATE, source_id, state)

    def record_run(self, run: JSONObject) -> None:
        """Store a finished run and forget the oldest beyond ``KEEP_RUNS``."""
        self.documents.put(RUN, f"{run['source']}:{run['id']}", run)
        runs = self.documents.list(RUN, {"source": run["source"]})
        for old in runs[:-KEEP_RUNS]:
            self.documents.delete(RUN, old.id)

    def history(self, source_id: str, limit: int = 20) -> builtins.list[JSONObject]:
        """The newest runs first."""
        runs = self.documents.list(RUN, {"source": source_id})
        return [dict(run.body) for run in reversed(runs[-limit:])]

    def lock(self, source_id: str) -> int:
        """Take the run lock; ``AlreadyRunning`` if a live run holds it."""
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": now().isoformat()}
        try:
            return self.documents.put(LOCK, source_id, holder, expected_version=0).version
        except VersionConflict:
            held = self.documents.get(LOCK, source_id)
            if held is None:
                return self.lock(source_id)  # released meanwhile
            since = datetime.fromisoformat(str(held.body.get("since")))
            if now() - since < STALE_LOCK:
                raise AlreadyRunning(
                    f"source {source_id} is already running (since {since.isoformat()})"
                ) from None
            try:
                return self.documents.put(LOCK, source_id, holder, held.version).version
            except VersionConflict:
                raise AlreadyRunning(f"source {source_id} is already running") from None

    def unlock(self, source_id: str, version: int) -> None:
        try:
            self.documents.delete(LOCK, source_id, expected_version=version)
        except VersionConflict:
            pass  # taken over as stale by another process: theirs now

    def summary(self, source: SourceConfig) -> dict[str, Any]:
        """The config with its last run's outcome, as the API lists it."""
        state = self.state(source.id)
        last = {key: state.get(key) for key in ("started_at", "finished_at", "status", "error")}
        return {**source.body(), "last_run": last if state else None}

    def is_due(self, source: SourceConfig, at: datetime, state: JSONObject | None = None) -> bool:
        """Whether ``source``'s schedule says it should start at ``at``."""
        started = (self.state(source.id) if state is None else state).get("started_at")
        last = datetime.fromisoformat(started) if started else None
        created = datetime.fromisoformat(source.created_at) if source.created_at else at
        return schedule.due(source.schedule, last, created, at)

    def due(self, at: datetime) -> builtins.list[SourceConfig]:
        """The sources due at ``at``."""
        states = self.states()
        return [s for s in self.list() if self.is_due(s, at, states.get(s.id, {}))]
