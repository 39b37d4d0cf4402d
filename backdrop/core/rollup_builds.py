"""Keeping the engine's rollup of a data set in line with its config.

The registry calls ``sync`` after it stores a config: a spec other than the
engine's is set (the engine drops the old rows and marks the rollup not
ready, so queries use the records) and a build is started, by a ``Builds``:
a daemon thread of this process (``InThread``), right away (``Now``: the
command line, and the default), or a task for the worker (``backdrop.transformers.rollup_tasks``
when a broker is configured). ``sweep`` repairs what a lost build left: the
worker runs it on start and beat every minute.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from backdrop.core.rollups import RollupSpec
from backdrop.core.storage.base import StorageEngine

log = logging.getLogger(__name__)


class Builds(Protocol):
    def start(self, data_set: str) -> None:
        """Have the rollup of ``data_set`` built. Never raises: a failure is
        logged with the command that builds it by hand."""


@dataclass(frozen=True)
class Built:
    data_set: str
    ready: bool
    seconds: float


def build(engine: StorageEngine, data_set: str) -> Built:
    """Build the rollup of ``data_set`` now, in this thread, and log how long it took."""
    started = time.perf_counter()
    ready = engine.records.build_rollup(data_set)
    built = Built(data_set, ready, time.perf_counter() - started)
    if ready:
        log.info(
            "built the rollup of %s in %.2f s",
            data_set,
            built.seconds,
            extra={"data_set": data_set, "seconds": built.seconds},
        )
    elif engine.records.state(data_set).rollup is not None:
        log.warning(
            "the engine gave up building the rollup of %s (see its warning: a counter "
            "beyond 64 bits?); queries use its records",
            data_set,
            extra={"data_set": data_set},
        )
    return built


def log_failure(data_set: str, error: BaseException) -> None:
    log.error(
        "could not build the rollup of %s (%s: %s); queries use its records until "
        "it is built; build it with: backdrop rollups build %s",
        data_set,
        type(error).__name__,
        error,
        data_set,
        extra={"data_set": data_set},
    )


class Now:
    """Build in the calling thread (the command line: its process ends next)."""

    def __init__(self, engine: StorageEngine):
        self.engine = engine

    def start(self, data_set: str) -> None:
        try:
            build(self.engine, data_set)
        except Exception as error:
            log_failure(data_set, error)


class InThread:
    """Build in a daemon thread of this process (no broker configured), on an
    engine of its own: no web-request timeout cuts a long build short, and
    closing the app's engine never closes a connection the build is using.
    At most one build per data set at a time in a process; a start during a
    build has it build once more after (the spec may have changed under it)."""

    def __init__(self, connect: Callable[[], StorageEngine]):
        self.connect = connect
        self._lock = threading.Lock()
        self._wanted: dict[str, bool] = {}  # building → started again meanwhile

    def start(self, data_set: str) -> None:
        with self._lock:
            if data_set in self._wanted:
                self._wanted[data_set] = True
                return
            self._wanted[data_set] = False
        name = f"rollup-build-{data_set}"
        threading.Thread(target=self._run, args=(data_set,), daemon=True, name=name).start()

    def _run(self, data_set: str) -> None:
        again = True
        while again:
            self._build(data_set)
            with self._lock:
                again = self._wanted[data_set]
                if again:
                    self._wanted[data_set] = False
                else:
                    del self._wanted[data_set]

    def _build(self, data_set: str) -> None:
        try:
            engine = self.connect()
            try:
                build(engine, data_set)
            finally:
                engine.close()
        except Exception as error:
            log_failure(data_set, error)


def sync(engine: StorageEngine, data_set: str, spec: RollupSpec | None, builds: Builds) -> bool:
    """Make the engine keep ``spec`` for ``data_set``; start a build when it
    changed, or when it is the same but not built yet (a lost build). True
    if a build was started."""
    state = engine.records.state(data_set)
    if state.rollup != spec:
        engine.records.set_rollup(data_set, spec)
    elif spec is None or state.ready:
        return False
    if spec is None:
        return False
    builds.start(data_set)
    return True


def sweep(
    engine: StorageEngine,
    wanted: Iterable[tuple[str, RollupSpec | None]],
    given_up: dict[str, RollupSpec] | None = None,
) -> list[Built]:
    """Set and build, one at a time, every rollup that ``wanted`` (data set
    name, the spec its config declares) says should exist and is not built;
    returns the builds done. ``given_up`` (kept by the caller between sweeps)
    remembers the specs an engine refused to build, so that a data set whose
    sums overflow is not rebuilt every minute; a new spec is tried again."""
    given_up = {} if given_up is None else given_up
    builds = _Recorded(engine)
    for data_set, spec in wanted:
        if spec is None or given_up.get(data_set) != spec:
            _sweep_one(engine, data_set, spec, builds, given_up)
    return builds.done


def _sweep_one(
    engine: StorageEngine,
    data_set: str,
    spec: RollupSpec | None,
    builds: _Recorded,
    given_up: dict[str, RollupSpec],
) -> None:
    done = len(builds.done)
    try:
        sync(engine, data_set, spec, builds)
    except Exception as error:
        log_failure(data_set, error)
    if spec is not None and len(builds.done) > done and not builds.done[-1].ready:
        given_up[data_set] = spec


class _Recorded:
    """``Builds`` for ``sweep``: build now (raising) and keep the outcome."""

    def __init__(self, engine: StorageEngine):
        self.engine = engine
        self.done: list[Built] = []

    def start(self, data_set: str) -> None:
        self.done.append(build(self.engine, data_set))
