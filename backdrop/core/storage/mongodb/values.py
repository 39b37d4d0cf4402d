"""Between Python values and BSON: UTC datetimes, plain ints, encoded batches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import bson
from bson.errors import InvalidDocument
from bson.int64 import Int64
from bson.raw_bson import RawBSONDocument

from backdrop.core import messages
from backdrop.core.periods import PERIOD_KEYS
from backdrop.core.storage.base import Record
from backdrop.errors import InvalidRecords

_PERIOD_KEYS = frozenset(PERIOD_KEYS)


def plain(value: Any) -> Any:
    """A value as the contract hands it out: BSON dates as aware UTC datetimes
    (bson's own tzinfo, or naive from a client without ``tz_aware``), and
    64-bit integers as ``int`` rather than ``bson.int64.Int64``."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if type(value) is Int64:
        return int(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def as_record(document: dict[str, Any]) -> Record:
    """A stored document as a record: plain values, no period keys."""
    return {key: plain(value) for key, value in document.items() if key not in _PERIOD_KEYS}


def without_period_keys() -> dict[str, bool]:
    """A fresh projection each time: mongomock writes into the one it is given."""
    return dict.fromkeys(PERIOD_KEYS, False)


def encode(records: list[Record]) -> list[RawBSONDocument]:
    """Every record as BSON, before any is written, so that a value BSON cannot
    hold (an integer beyond 64 bits) fails the whole batch, not its tail.
    pymongo sends the encoded bytes as they are."""
    encoded: list[RawBSONDocument] = []
    problems: list[str] = []
    for number, record in enumerate(records, start=1):
        try:
            encoded.append(RawBSONDocument(bson.encode(record)))
        except (InvalidDocument, OverflowError):
            problems += _unstorable(number, record)
    if problems:
        raise InvalidRecords(problems)
    return encoded


def _unstorable(number: int, record: Record) -> list[str]:
    problems = []
    for key, value in record.items():
        try:
            bson.encode({key: value})
        except (InvalidDocument, OverflowError) as error:
            problems.append(messages.unstorable(f"record {number}", key, str(error)))
    return problems
