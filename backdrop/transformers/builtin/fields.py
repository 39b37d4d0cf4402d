"""Turning query-result keys into keys a record may have (SPEC 3)."""

from __future__ import annotations

import re
from typing import Any

PERIOD_FIELDS = ("_start_at", "_end_at")


def record_key(key: str) -> str:
    """A result key as a writable record key: ``_count`` → ``count``,
    ``value:sum`` → ``value_sum`` (records cannot hold ``:`` or ``_count``)."""
    if key == "_count":
        return "count"
    return key.replace(":", "_")


def period_of(row: dict[str, Any]) -> dict[str, Any]:
    """The row's ``_start_at``/``_end_at`` (absent for queries without a period)."""
    return {key: row[key] for key in PERIOD_FIELDS if key in row}


def number(value: Any) -> int | float:
    """A summable value: missing, null and non-numbers count as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return value


def option(options: dict[str, Any], name: str, legacy: str | None = None, default: Any = None):
    """An option by its name, or by the hyphenated name older configs used."""
    if name in options:
        return options[name]
    if legacy is not None and legacy in options:
        return options[legacy]
    return default


def required(options: dict[str, Any], name: str, legacy: str | None = None, default: Any = None):
    """A non-empty string option, or ValueError naming it."""
    value = option(options, name, legacy, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"options.{name} must be a non-empty string")
    return value


def regex(options: dict[str, Any], name: str) -> re.Pattern:
    """A compiled regex option, or ValueError naming it."""
    pattern = required(options, name)
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(f"options.{name} is not a valid regex: {error}") from None
