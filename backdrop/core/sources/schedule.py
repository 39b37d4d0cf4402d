"""Source schedules: cron syntax (``0 2 * * *``, UTC) or ``every 15m``.

``due`` answers whether a source should start now, from when its last run
started (or, for a cron source never run, when it was created), so the
schedule lives in the database and whoever asks (beat's tick, a test) needs
no state of its own.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from croniter import croniter

from backdrop.errors import BadRequest

EVERY = re.compile(r"^every\s+([0-9]{1,7})\s*([smhd])$")  # bounded: always fits a timedelta
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL_SECONDS = 60
RULE = "cron syntax in UTC such as '0 2 * * *', or 'every N' with m, h or d, such as 'every 15m'"


def interval(schedule: str) -> timedelta | None:
    """The interval of an ``every`` schedule; None for a cron one."""
    match = EVERY.fullmatch(schedule.strip())
    if match is None:
        return None
    return timedelta(seconds=int(match[1]) * UNITS[match[2]])


def check(schedule: object) -> str:
    """The schedule, normalised, or 400 saying what a schedule may be."""
    if not isinstance(schedule, str) or not schedule.strip():
        raise BadRequest("schedule must be a string", detail=RULE)
    text = " ".join(schedule.split())
    every = interval(text)
    if every is not None:
        if every.total_seconds() < MIN_INTERVAL_SECONDS:
            raise BadRequest("schedule must be at least every 1m", detail=f"got {schedule!r}")
        return text
    if text.startswith("every") or len(text.split()) != 5 or not croniter.is_valid(text):
        raise BadRequest(f"schedule {schedule!r} is not a valid schedule", detail=RULE)
    return text


def due(schedule: str, last_start: datetime | None, created: datetime, now: datetime) -> bool:
    every = interval(schedule)
    if every is not None:
        return last_start is None or now - last_start >= every
    base = last_start or created
    following: datetime = croniter(schedule, base).get_next(datetime)
    return following <= now
