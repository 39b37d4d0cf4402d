"""The typed query model: frozen values parsed once from the query string.

Engines never see request arguments. They receive a ``Where`` (which
records), and for grouped queries the group fields, the period and the
``Collect``s; they answer with rows of *partial* collect values (see
``COLLECT_METHODS``) that the Python side can merge across periods without
asking the database twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backdrop.core.periods import Period


@dataclass(frozen=True)
class Filter:
    """``filter_by=field:value``: equality.

    The value is the raw query-string text. A record matches when the field
    is that string; or, if the text parses as a finite number, when the field
    is that number; or, for ``true``/``false``, when the field is that boolean.
    """

    field: str
    value: str

    @property
    def number(self) -> int | float | None:
        try:
            number = float(self.value)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        # Integral values within 64 bits compare as integers; beyond, as floats.
        return int(number) if number.is_integer() and abs(number) < 2**63 else number

    @property
    def boolean(self) -> bool | None:
        return {"true": True, "false": False}.get(self.value)


@dataclass(frozen=True)
class PrefixFilter:
    """``filter_by_prefix=field:prefix``: a string field starting with ``prefix``
    (literal text, never a pattern)."""

    field: str
    prefix: str


@dataclass(frozen=True)
class Where:
    """Which records a query reads. ``start`` is inclusive; ``end`` is exclusive
    unless ``end_inclusive``. A time bound excludes records with no ``_timestamp``."""

    filters: tuple[Filter, ...] = ()
    prefixes: tuple[PrefixFilter, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    end_inclusive: bool = False


@dataclass(frozen=True)
class Sort:
    key: str
    descending: bool = False


@dataclass(frozen=True)
class Collect:
    """``collect=field:method``. ``legacy`` marks the plain ``collect=field`` form,
    which means ``set`` and also repeats the set under the bare field name."""

    field: str
    method: str = "set"
    legacy: bool = False

    @property
    def key(self) -> str:
        return f"{self.field}:{self.method}"


@dataclass(frozen=True)
class CollectMethod:
    """How a method's partial values (one per database row) merge and finish.

    Engines return, per row and collect key, the partial value:
    ``sum`` → the sum of numeric values, or None if there were none;
    ``count`` → how many values were present (explicit nulls included);
    ``set`` → the distinct values present (nulls included), in any order;
    ``mean`` → ``[sum, n]`` over the numeric values (``[0, 0]`` if none).
    """

    merge: Callable[[Any, Any], Any]
    finish: Callable[[Any], Any]


def _add_optional(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _type_rank(value: Any) -> tuple[Any, ...]:
    """Sort key putting null < booleans < numbers < strings, then by value."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    return (3, str(value))


def sorted_set(values: Any) -> list[Any]:
    """Distinct values in order. Keyed by type rank too, because Python's
    ``True == 1`` would otherwise merge a boolean with a number."""
    return [value for _, value in sorted({_type_rank(v): v for v in values}.items())]


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _sum(value: Any) -> Any:
    """A sum beyond signed 64 bits is a float, on every engine: SQLite redoes
    the sum as REAL, MongoDB's $sum turns double, PostgreSQL's numeric is
    converted here (and so is a merge of partials that overflowed)."""
    if value.__class__ is int and not INT64_MIN <= value <= INT64_MAX:
        return float(value)
    return value


def _mean(partial: Any) -> float | None:
    total, n = partial
    return None if not n else total / n


COLLECT_METHODS: dict[str, CollectMethod] = {
    "sum": CollectMethod(_add_optional, _sum),
    "count": CollectMethod(lambda a, b: a + b, lambda value: value),
    "set": CollectMethod(lambda a, b: list(a) + list(b), sorted_set),
    "mean": CollectMethod(lambda a, b: [a[0] + b[0], a[1] + b[1]], _mean),
}


@dataclass(frozen=True)
class Query:
    """A whole read query, as parsed from the query string (SPEC 5.1)."""

    filters: tuple[Filter, ...] = ()
    prefixes: tuple[PrefixFilter, ...] = ()
    start_at: datetime | None = None
    end_at: datetime | None = None
    inclusive: bool = False
    period: Period | None = None
    duration: int | None = None
    group_by: tuple[str, ...] = ()
    collect: tuple[Collect, ...] = field(default=())
    sort_by: Sort | None = None
    limit: int | None = None
    flatten: bool = False
    format: str = "json"

    @property
    def is_grouped(self) -> bool:
        return bool(self.group_by) or self.period is not None

    @property
    def where(self) -> Where:
        """The record selection given explicit bounds (durations are resolved
        by the reader, which builds its own ``Where``)."""
        return Where(
            filters=self.filters,
            prefixes=self.prefixes,
            start=self.start_at,
            end=self.end_at,
            end_inclusive=self.inclusive,
        )
