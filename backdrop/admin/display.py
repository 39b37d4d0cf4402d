"""How values look on a page: relative times, durations, table cells."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask

from backdrop import __version__

_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
)


def duration(seconds: float) -> str:
    """``seconds`` in its largest whole unit: ``3 hours``, ``1 day``."""
    seconds = max(0, int(seconds))
    for unit, size in _UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "0 seconds"


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 1:
        return "just now"
    return f"{duration(seconds)} ago"


def cell(value: Any) -> str:
    """A value in a table cell: times in ISO 8601, lists and booleans as JSON."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool | list | dict):
        return orjson.dumps(value).decode()
    return str(value)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(ago=ago, duration=duration, cell=cell)
    app.jinja_env.globals["version"] = __version__
