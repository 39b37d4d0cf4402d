"""The read-query rules that need the whole parsed ``Query``: those of data
sets with ``raw_queries_allowed: false`` and the ``sort_by`` key check, the
last rules of SPEC 5.2."""

from __future__ import annotations

from typing import NoReturn

from backdrop.core.query import Query
from backdrop.errors import InvalidQuery

# The internal fields a stored record shows (SPEC 3); period keys are hidden.
INTERNAL_FIELDS = frozenset(("_id", "_timestamp", "_updated_at", "_start_at", "_end_at"))
ONE_WEEK_SECONDS = 7 * 24 * 3600


def _fail(message: str, detail: str | None = None) -> NoReturn:
    raise InvalidQuery(message, detail=detail)


def check_restricted(query: Query) -> None:
    """The extra rules for data sets with ``raw_queries_allowed: false``."""
    if not query.is_grouped:
        _fail("querying for raw data is not allowed")
    if query.period is not None and query.period.name == "hour":
        return
    bounds = (("start_at", query.start_at), ("end_at", query.end_at))
    for name, moment in bounds:
        if moment is not None and moment != moment.replace(
            hour=0, minute=0, second=0, microsecond=0
        ):
            _fail(f"{name} must be midnight")
    if query.start_at and query.end_at:
        if (query.end_at - query.start_at).total_seconds() < ONE_WEEK_SECONDS:
            _fail("The minimum time span for a query is 7 days")
    if query.period is None:
        return
    for name, moment in bounds:
        if moment is None:
            continue
        if query.period.name == "week" and moment.weekday() != 0:
            _fail(f"{name} must be a monday")
        if query.period.name == "month" and moment.day != 1:
            _fail(f"{name} must be midnight on the first day of the month")


def sort_keys(query: Query) -> set[str]:
    """Every key a grouped row (or group, for period queries) carries."""
    keys = {*query.group_by, "_count"}
    for collect in query.collect:
        keys.add(collect.key)
        if collect.legacy:
            keys.add(collect.field)
    if query.period is not None:
        keys.add("_group_count")
    return keys


def check_sort_key(query: Query) -> None:
    """A grouped ``sort_by`` must name a key the groups have (SPEC 5.2, last rule)."""
    if query.sort_by is None:
        return
    key = query.sort_by.key
    if not query.is_grouped:
        if ":" in key:
            _fail(f"Cannot sort by {key!r}: raw records have no collect keys")
        if key.startswith("_") and key not in INTERNAL_FIELDS:
            _fail(f"sort_by field {key!r} is not a recognised internal field")
        return
    if key not in sort_keys(query):
        _fail(
            f"Cannot sort by {key!r}: no group has that key "
            "(sort by a group_by field, _count or a collect key such as value:sum)"
        )
