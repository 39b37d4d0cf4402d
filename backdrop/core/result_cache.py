"""Read answers kept per process, ready to send again (issue 15).

A dashboard asks the same few queries over and over; between two writes to
a data set their answers cannot change. So the read app keeps the rendered
body of each answer (bytes, headers, ETag) under a key naming everything the
answer depends on:

- the data set's name and its ``state().version``, which every write
  transaction bumps in the same commit as the records (a write acknowledged
  by any process changes the version every other process reads next, so no
  process serves an older answer after it: nothing to invalidate, nothing to
  broadcast);
- the parsed ``Query`` (a frozen, hashable value: two query strings that
  parse alike share an entry, and ``format`` is part of it);
- the config fields that change the body: ``published`` (the warning) and
  ``raw_queries_allowed``;
- for a ``duration`` query with no ``start_at``/``end_at``, the start of
  the period holding *now*: its range ends there, so its answer is reused
  only while now stays in that period.

A hit is then one state read, one dict lookup and a ``Response``. The cache
is an LRU bounded in bytes (``BACKDROP_RESULT_CACHE_BYTES``, 0 = off); an
answer over an eighth of the budget is not kept, so one huge answer cannot
flush every other. Workers of the ``gthread`` model share it between
threads, under one lock held only for dict operations.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from backdrop import metrics
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.query import Query

# What an entry costs beside its body and headers: the key, the entry, the
# dict slot; a rough figure keeps the bound honest for many small answers.
ENTRY_OVERHEAD = 512
LARGEST_SHARE = 8  # an answer over budget / 8 is not kept


def utcnow() -> datetime:
    """The time a read is answered at (tests replace it)."""
    return datetime.now(UTC)


class Key(NamedTuple):
    """Everything a read answer depends on."""

    data_set: str
    version: int
    answer: Hashable  # the query, the config fields, the period of now


def key(config: DataSetConfig, version: int, query: Query, now: datetime) -> Key:
    """The key of the response to ``query`` over ``config``'s data set at
    ``version``, answered at ``now``."""
    anchor = None
    if query.duration is not None and query.start_at is None and query.end_at is None:
        assert query.period is not None  # the parser requires one with duration
        anchor = query.period.start(now)
    return Key(config.name, version, (query, config.published, config.raw_queries_allowed, anchor))


@dataclass(frozen=True)
class Entry:
    """A response as sent: status 200, its body and headers (ETag included)."""

    body: bytes
    headers: tuple[tuple[str, str], ...]

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + ENTRY_OVERHEAD


class ResultCache:
    """A thread-safe LRU of ``Entry`` by ``Key``, holding at most ``max_bytes``.

    Versions only grow, so once a data set's version ``v`` is seen, entries
    of its older versions can never be asked for again: they are dropped
    then rather than left to age out of the LRU."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.held = 0
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        # data set → the newest version seen, and the keys kept at it
        self._newest: dict[str, tuple[int, set[Key]]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> Entry | None:
        """The entry kept for ``key``, or None; counted as a hit or a miss
        when the cache is on."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            else:
                self._see(key)
            held = self.held
        if entry is None:
            metrics.RESULT_CACHE_MISSES.inc()
            metrics.RESULT_CACHE_BYTES.set(held)
            return None
        metrics.RESULT_CACHE_HITS.inc()
        return entry

    def fits(self, size: int) -> bool:
        """Whether an entry of ``size`` bytes would be kept."""
        return self.enabled and size <= self.max_bytes // LARGEST_SHARE

    def put(self, key: Key, entry: Entry) -> None:
        """Keep ``entry`` for ``key`` if it fits and its version is still the
        newest, evicting the least recently used entries until the cache is
        within its bound."""
        if not self.fits(entry.size):
            return
        with self._lock:
            kept = self._see(key)
            if kept is None:
                return  # a newer version is known: nobody will ask for this one
            self._drop(key)
            kept.add(key)
            self._entries[key] = entry
            self.held += entry.size
            while self.held > self.max_bytes:
                self._drop(next(iter(self._entries)))
            held = self.held
        metrics.RESULT_CACHE_BYTES.set(held)

    def _see(self, key: Key) -> set[Key] | None:
        """Note ``key``'s version (dropping the entries of older ones); the keys
        kept at it, or None if the data set is known at a newer version."""
        newest = self._newest.get(key.data_set)
        if newest is not None and newest[0] > key.version:
            return None
        if newest is None or newest[0] < key.version:
            for old in newest[1] if newest else ():
                self._forget(old)
            newest = self._newest[key.data_set] = (key.version, set())
        return newest[1]

    def _drop(self, key: Key) -> None:
        if key in self._entries:
            self._forget(key)
            self._newest[key.data_set][1].discard(key)

    def _forget(self, key: Key) -> None:
        self.held -= self._entries.pop(key).size
