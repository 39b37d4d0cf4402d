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


def key(config: DataSetConfig, version: int, query: Query, now: datetime) -> Hashable:
    """Everything the response to ``query`` over ``config``'s data set at
    ``version`` depends on, answered at ``now``."""
    anchor = None
    if query.duration is not None and query.start_at is None and query.end_at is None:
        assert query.period is not None  # the parser requires one with duration
        anchor = query.period.start(now)
    return (config.name, version, query, config.published, config.raw_queries_allowed, anchor)


@dataclass(frozen=True)
class Entry:
    """A response as sent: status 200, its body and headers (ETag included)."""

    body: bytes
    headers: tuple[tuple[str, str], ...]

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + ENTRY_OVERHEAD


class ResultCache:
    """A thread-safe LRU of ``Entry`` by key, holding at most ``max_bytes``."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.held = 0
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Entry | None:
        """The entry kept for ``key``, or None; counted as a hit or a miss
        when the cache is on."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is None:
            metrics.RESULT_CACHE_MISSES.inc()
            return None
        metrics.RESULT_CACHE_HITS.inc()
        return entry

    def fits(self, size: int) -> bool:
        """Whether an entry of ``size`` bytes would be kept."""
        return self.enabled and size <= self.max_bytes // LARGEST_SHARE

    def put(self, key: Hashable, entry: Entry) -> None:
        """Keep ``entry`` for ``key`` if it fits, evicting the least recently
        used entries until the cache is within its bound."""
        if not self.fits(entry.size):
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self.held += entry.size - (old.size if old else 0)
            self._entries[key] = entry
            while self.held > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.held -= evicted.size
            held = self.held
        metrics.RESULT_CACHE_BYTES.set(held)
