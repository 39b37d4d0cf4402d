"""Time buckets (hour … year), all in UTC, weeks starting on Monday.

Each period knows the start of the bucket containing a time, how to step
whole buckets forward or back, and the name of the key under which a
record's bucket start is stored (``_week_start_at`` …).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dateutil.relativedelta import relativedelta


@dataclass(frozen=True)
class Period:
    name: str
    step: relativedelta

    @property
    def key(self) -> str:
        """The stored record field holding the start of this period."""
        return f"_{self.name}_start_at"

    def start(self, moment: datetime) -> datetime:
        """Start of the period containing ``moment`` (an aware datetime)."""
        moment = moment.astimezone(UTC)
        if self.name == "hour":
            return moment.replace(minute=0, second=0, microsecond=0)
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.name == "day":
            return day
        if self.name == "week":
            return day - timedelta(days=day.weekday())
        if self.name == "month":
            return day.replace(day=1)
        if self.name == "quarter":
            return day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
        return day.replace(day=1, month=1)

    def shift(self, moment: datetime, periods: int) -> datetime:
        """``moment`` moved by a whole number of periods (negative: back)."""
        return moment + self.step * periods

    def end(self, moment: datetime) -> datetime:
        """End (exclusive) of the period containing ``moment``."""
        return self.shift(self.start(moment), 1)

    def starts(self, start: datetime, end: datetime) -> list[datetime]:
        """Starts of every period overlapping [start, end)."""
        result = []
        current = self.start(start)
        while current < end:
            result.append(current)
            current = self.shift(current, 1)
        return result


PERIODS: dict[str, Period] = {
    "hour": Period("hour", relativedelta(hours=1)),
    "day": Period("day", relativedelta(days=1)),
    "week": Period("week", relativedelta(weeks=1)),
    "month": Period("month", relativedelta(months=1)),
    "quarter": Period("quarter", relativedelta(months=3)),
    "year": Period("year", relativedelta(years=1)),
}

PERIOD_KEYS: tuple[str, ...] = tuple(period.key for period in PERIODS.values())


def period_keys(timestamp: datetime) -> dict[str, datetime]:
    """The start of every period containing ``timestamp``, keyed by field name."""
    return {period.key: period.start(timestamp) for period in PERIODS.values()}
