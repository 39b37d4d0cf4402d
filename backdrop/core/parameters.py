"""The read API's query parameters (SPEC 5.1), declared once.

``query_args`` validates with this table (which names exist, which repeat,
the datetime form) and the OpenAPI document describes each parameter from it,
so the docs and the parser can never disagree about what a query may carry.
Each ``schema`` is the JSON Schema of one value as a client sends it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from backdrop.core.periods import PERIODS
from backdrop.core.query import COLLECT_METHODS

# YYYY-MM-DDTHH:MM:SS then Z, ±HH:MM or nothing. A space stands for "+": an
# unencoded "+00:00" in a query string arrives decoded as " 00:00".
DATETIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+\- ]\d{2}:\d{2})?$")
DATETIME_RULE = "YYYY-MM-DDTHH:MM:SS then Z, ±HH:MM or nothing (UTC), e.g. 2024-01-01T00:00:00Z"
FORMATS = ("json", "csv")
BOOLEAN = {"type": "string", "enum": ["true", "false"]}
FIELD_VALUE = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]+:"}


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    repeatable: bool = False
    example: str | None = None


READ_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "filter_by",
        "field:value, records whose field equals value (true/false match booleans, "
        "a number also matches that number); repeat for AND",
        FIELD_VALUE,
        repeatable=True,
        example="authority:Westminster",
    ),
    Parameter(
        "filter_by_prefix",
        "field:prefix, records whose field starts with prefix (literal); repeatable; "
        "not with filter_by",
        FIELD_VALUE,
        repeatable=True,
        example="authority:West",
    ),
    Parameter(
        "start_at",
        f"start of the time range on _timestamp, inclusive: {DATETIME_RULE}",
        {"type": "string", "pattern": DATETIME_PATTERN.pattern},
        example="2024-01-01T00:00:00Z",
    ),
    Parameter(
        "end_at",
        f"end of the time range on _timestamp, exclusive unless inclusive=true: {DATETIME_RULE}",
        {"type": "string", "pattern": DATETIME_PATTERN.pattern},
        example="2024-02-01T00:00:00Z",
    ),
    Parameter("inclusive", "true: end_at is inclusive", BOOLEAN),
    Parameter(
        "period",
        "group into time buckets (UTC; weeks start on Monday)",
        {"type": "string", "enum": list(PERIODS)},
        example="week",
    ),
    Parameter(
        "duration",
        "how many periods: forward from start_at, back from end_at, else back from now",
        {"type": "integer", "minimum": 1},
        example="4",
    ),
    Parameter(
        "group_by",
        "field to group by; repeat to group by the combination",
        {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]+$"},
        repeatable=True,
        example="authority",
    ),
    Parameter(
        "collect",
        f"field or field:method ({', '.join(COLLECT_METHODS)}; no method means set); repeatable",
        {"type": "string", "pattern": f"^[A-Za-z][A-Za-z0-9_]+(:({'|'.join(COLLECT_METHODS)}))?$"},
        repeatable=True,
        example="count:sum",
    ),
    Parameter(
        "sort_by",
        "key:ascending or key:descending (the direction follows the last colon)",
        {"type": "string", "pattern": "^.+:(ascending|descending)$"},
        example="_count:descending",
    ),
    Parameter("limit", "at most this many rows (or groups)", {"type": "integer", "minimum": 0}),
    Parameter("flatten", "true: flat rows instead of nested groups", BOOLEAN),
    Parameter(
        "format", "json (default) or csv", {"type": "string", "enum": list(FORMATS)}, example="csv"
    ),
)

# The export of SPEC 13 (``GET /data/<group>/<type>/records``), parsed by ``backdrop.core.export``.
EXPORT_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "orientation",
        "records (default): {results, next}; tabular: {headers, values, next}",
        {"type": "string", "enum": ["records", "tabular"]},
    ),
    Parameter(
        "limit", "records per page, 1 to 10000 (default 1000)", {"type": "integer", "minimum": 1}
    ),
    Parameter("next-id", "the opaque cursor of the next URL of a previous page"),
    Parameter(
        "updated_since",
        f"only records written at or after this time (on _updated_at): {DATETIME_RULE}",
        {"type": "string", "pattern": DATETIME_PATTERN.pattern},
        example="2024-01-01T00:00:00Z",
    ),
    Parameter(
        "format",
        "json (default, one page); jsonl or csv: the whole data set in one streamed response",
        {"type": "string", "enum": ["json", "jsonl", "csv"]},
    ),
)
