"""A transform's read query: SPEC 5.1 parameters as a dict, parsed by the
read side's own parser.

The range is never part of the stored query: each run replaces ``start_at``
and ``end_at`` of the parsed query with its triggering range, and ``flatten``
is always on.
"""

from __future__ import annotations

from typing import Any

from backdrop.core.query import Query
from backdrop.core.query_args import parse_query as parse_args
from backdrop.errors import InvalidQuery

# Set by each run, never stored.
RUN_PARAMETERS = ("start_at", "end_at", "duration", "inclusive", "format")
# Stands in for a run's range when a stored query is checked.
_SAMPLE_RANGE = {"start_at": "2000-01-03T00:00:00Z", "end_at": "2000-01-10T00:00:00Z"}


def parse_query(query: Any) -> Query:
    """Check a stored transform query; raises InvalidQuery with the read
    side's message (or ours, for what a transform query may not hold)."""
    if not isinstance(query, dict):
        raise InvalidQuery("query must be an object of read parameters")
    given = sorted(set(query) & set(RUN_PARAMETERS))
    if given:
        raise InvalidQuery(
            f"query cannot set {', '.join(given)}: each run reads the range that was written"
        )
    for name, value in query.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str | int | float | bool) for v in values):
            raise InvalidQuery(f"query.{name} must be a string or a list of strings")
    sample = _SAMPLE_RANGE if "period" in query else {}
    parsed = parse_args({**query, "flatten": "true", **sample})
    if not parsed.is_grouped:
        raise InvalidQuery("a transform query must group its records: add period or group_by")
    if any(collect.method == "set" for collect in parsed.collect):
        raise InvalidQuery(
            "a transform query cannot collect sets (records cannot hold lists); "
            "use field:sum, field:count or field:mean"
        )
    return parsed
