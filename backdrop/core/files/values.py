"""Cell values to JSON values: numbers from numeric-looking text, ISO dates.

Text that looks like a number becomes one, except where the digits are
probably an identifier: a leading zero (``007``, ``0123``) stays text, and so
do ``nan``/``inf`` and thousands separators. Excel dates (no zone) become ISO
8601 UTC timestamps (``2024-01-31T09:00:00Z``), the form ``_timestamp`` takes.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

_INT = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[+-]?(?:0|[1-9][0-9]*)?(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_DIGIT = re.compile(r"[0-9]")
_MAX_SAFE = 2**53  # beyond it JSON readers (JavaScript) lose digits: keep such ids as text


def infer(text: str) -> Any:
    """A text cell's value: None when empty, an int or float when it reads as
    one, else the text unchanged."""
    if text == "":
        return None
    if len(text) > 40 or not _DIGIT.search(text):
        return text
    if _INT.fullmatch(text):
        number = int(text)
        return number if abs(number) <= _MAX_SAFE else text
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def iso(moment: datetime | date) -> str:
    """An Excel date or date-time (no zone: UTC, as SPEC 3 reads no offset)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    if moment.tzinfo is not None:
        return moment.isoformat()
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text + "Z"


def from_cell(value: Any) -> Any:
    """A spreadsheet cell as a JSON value."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) <= _MAX_SAFE else value
    if isinstance(value, str):
        return infer(value)
    if isinstance(value, datetime | date):
        return iso(value)
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)
