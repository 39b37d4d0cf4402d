"""A lock made of one document, for writers in any number of processes.

The create-only put (``expected_version=0``) is the lock every engine
provides: exactly one of two writers creates the document. A holder that died
leaves a lock that expires after ``ttl`` seconds and is then taken over.
"""

from __future__ import annotations

import os
import random
import time
from types import TracebackType

from backdrop.core.storage.base import DocumentStore
from backdrop.errors import StorageUnavailable, VersionConflict


class Busy(StorageUnavailable):
    default_message = "Dashboard storage is busy, please retry"


class DocumentLock:
    def __init__(
        self, documents: DocumentStore, kind: str, id: str, ttl: float = 30, wait: float = 15
    ):
        self.documents, self.kind, self.id = documents, kind, id
        self.ttl, self.wait = ttl, wait
        self.version: int | None = None

    def __enter__(self) -> DocumentLock:
        deadline = time.monotonic() + self.wait
        owner = os.urandom(8).hex()
        while True:
            body = {"owner": owner, "expires": time.time() + self.ttl}
            try:
                self.version = self.documents.put(self.kind, self.id, body, 0).version
                return self
            except VersionConflict:
                pass
            held = self.documents.get(self.kind, self.id)
            if held is not None and held.body.get("expires", 0) < time.time():
                self._delete(held.version)  # its holder died: take it over
                continue
            if time.monotonic() > deadline:
                raise Busy(f"Dashboard storage is busy: waited {self.wait:g} s for other writers")
            time.sleep(random.uniform(0.005, 0.03))  # noqa: S311 - jitter, not a secret

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.version is not None:
            self._delete(self.version)
            self.version = None

    def _delete(self, version: int) -> None:
        try:
            self.documents.delete(self.kind, self.id, expected_version=version)
        except VersionConflict:
            pass  # another writer already took it over
