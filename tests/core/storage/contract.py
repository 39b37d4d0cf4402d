"""Builders shared by the storage contract tests: records in the stored form
that ``backdrop.core.records`` hands to engines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backdrop.core.periods import PERIOD_KEYS, period_keys

UPDATED = datetime(2024, 6, 1, 12, tzinfo=UTC)


def at(text: str) -> datetime:
    """An aware UTC datetime from ISO text (no offset means UTC)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record(
    record_id: str, timestamp: str | None = None, *, updated_at: datetime = UPDATED, **fields: Any
) -> dict[str, Any]:
    """A prepared record: ``_id``, ``_updated_at``, and with a timestamp its period keys."""
    prepared: dict[str, Any] = {"_id": record_id, "_updated_at": updated_at, **fields}
    if timestamp is not None:
        prepared["_timestamp"] = at(timestamp)
        prepared.update(period_keys(prepared["_timestamp"]))
    return prepared


def returned(prepared: dict[str, Any]) -> dict[str, Any]:
    """What ``find``/``get_record`` give back for a prepared record."""
    return {k: v for k, v in prepared.items() if k not in PERIOD_KEYS}


def config(name: str, data_group: str | None = None, data_type: str | None = None, **extra: Any):
    return {
        "name": name,
        "data_group": data_group or name,
        "data_type": data_type or name,
        **extra,
    }


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["_id"] for r in records]
