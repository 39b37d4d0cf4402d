"""Byte limits while reading: a stream that refuses to be read past a size."""

from __future__ import annotations

import io
from typing import BinaryIO

from backdrop.core.files.errors import FileTooLarge


def too_large(limit: int) -> FileTooLarge:
    return FileTooLarge(f"the file is over the upload limit of {limit} bytes")


class Bounded(io.RawIOBase):
    """Reads ``stream``, raising ``FileTooLarge`` once more than ``limit`` bytes came."""

    def __init__(self, stream: BinaryIO, limit: int | None):
        self._stream = stream
        self._limit = limit
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        self.read_bytes += count
        if self._limit is not None and self.read_bytes > self._limit:
            raise too_large(self._limit)
        return count


def size_of(stream: BinaryIO) -> int | None:
    """The bytes left in a seekable stream, or None when it cannot seek."""
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
    except (OSError, AttributeError, ValueError):
        return None
    return end - here
