"""Query string → ``Query``, checked in the order of SPEC 5.2.

Validation stops at the first broken rule and raises ``InvalidQuery`` with the
message clients have always received for it. The rules that depend on the
data set (``raw_queries_allowed: false``) come after the general ones, and a
``sort_by`` key that no grouped row can carry is refused last.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn, Protocol

from backdrop.core.names import KEY_PATTERN, KEY_RULE
from backdrop.core.parameters import DATETIME_PATTERN, DATETIME_RULE, FORMATS, READ_PARAMETERS
from backdrop.core.periods import PERIODS, Period
from backdrop.core.query import COLLECT_METHODS, Collect, Filter, PrefixFilter, Query, Sort
from backdrop.core.query_checks import INTERNAL_FIELDS, check_restricted, check_sort_key
from backdrop.errors import InvalidQuery

# In the order of SPEC 5.1, as the ``detail`` of an unknown parameter lists them.
PARAMETER_ORDER = tuple(parameter.name for parameter in READ_PARAMETERS)
PARAMETERS = frozenset(PARAMETER_ORDER)
REPEATABLE = frozenset(parameter.name for parameter in READ_PARAMETERS if parameter.repeatable)
TIME_FIELDS = INTERNAL_FIELDS - {"_id"}
# Larger limits behave the same and would overflow a database integer.
MAX_LIMIT = 2**53


class Args(Protocol):
    """A werkzeug ``MultiDict`` (request.args) or anything with ``getlist``."""

    def getlist(self, key: str) -> list[str]: ...

    def keys(self) -> Any: ...


class _MappingArgs:
    """A plain mapping of name → value or list of values (transform queries)."""

    def __init__(self, mapping: Mapping[str, Any]):
        self.mapping = mapping

    def keys(self) -> Any:
        return self.mapping.keys()

    def getlist(self, key: str) -> list[str]:
        value = self.mapping.get(key)
        if value is None:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [_as_text(v) for v in values]


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def parse_query(args: Args | Mapping[str, Any], raw_queries_allowed: bool = True) -> Query:
    """The ``Query`` for a query string, or ``InvalidQuery`` naming the first
    rule of SPEC 5.2 it breaks."""
    if not hasattr(args, "getlist"):
        args = _MappingArgs(args)
    return _Parser(args).parse(raw_queries_allowed)


def _fail(message: str, detail: str | None = None) -> NoReturn:
    raise InvalidQuery(message, detail=detail)


def _quoted(names: set[str]) -> str:
    """Names as a client sent them, quoted and cut short, for a ``detail``."""
    return ", ".join(repr(name[:100]) for name in sorted(names))


def _check_field(parameter: str, name: str, internal: bool = True) -> None:
    """The key rule of SPEC 3; with ``internal``, ``_`` names must be ones a
    stored record shows."""
    if name.startswith("$"):
        _fail(f"{parameter} cannot use a field name starting with $")
    if not KEY_PATTERN.fullmatch(name):
        _fail(f"{parameter} field {name!r} is not a valid field name", KEY_RULE)
    if internal and name.startswith("_") and name not in INTERNAL_FIELDS:
        _fail(
            f"{parameter} field {name!r} is not a recognised internal field",
            "internal fields: " + ", ".join(sorted(INTERNAL_FIELDS)),
        )


def _boolean(parameter: str, value: str | None) -> bool:
    if value is None:
        return False
    lowered = value.lower()
    if lowered not in ("true", "false"):
        _fail(f"{parameter} must be either 'true' or 'false'", f"got {parameter}={value}")
    return lowered == "true"


class _Parser:
    def __init__(self, args: Args):
        self.args = args

    def one(self, name: str) -> str | None:
        values = self.args.getlist(name)
        return values[0] if values else None

    def parse(self, raw_queries_allowed: bool) -> Query:
        self.check_parameters()  # 1
        period_name, duration_text = self.one("period"), self.one("duration")
        start_text, end_text = self.one("start_at"), self.one("end_at")
        group_by_given = bool(self.args.getlist("group_by"))
        self.check_period_range(  # 2
            period_name, duration_text, start_text, end_text, group_by_given, self.one("limit")
        )
        start_at = self.time_parameter("start_at", start_text)  # 3
        end_at = self.time_parameter("end_at", end_text)
        filters, prefixes = self.filters()  # 4
        period = self.period(period_name)  # 5
        sort_by = self.sort_by(period is not None, group_by_given)  # 6
        group_by = self.group_by()  # 7
        limit = self.integer("limit")  # 8
        duration = self.integer("duration")
        if duration == 0:
            _fail("duration must be a positive integer")
        collects = self.collects(group_by, period)  # 9
        self.check_time_parameters(start_at, end_at, duration, period)  # 10
        flatten = _boolean("flatten", self.one("flatten"))  # 11
        inclusive = _boolean("inclusive", self.one("inclusive"))
        if self.one("inclusive") is not None and start_at is None and end_at is None:
            _fail("inclusive can only be used with start_at or end_at")
        output_format = self.one("format") or "json"
        if output_format not in FORMATS:
            _fail("format must be either 'json' or 'csv'")
        query = Query(
            filters=filters,
            prefixes=prefixes,
            start_at=start_at,
            end_at=end_at,
            inclusive=inclusive,
            period=period,
            duration=duration,
            group_by=group_by,
            collect=collects,
            sort_by=sort_by,
            limit=limit,
            flatten=flatten,
            format=output_format,
        )
        if not raw_queries_allowed:
            check_restricted(query)
        check_sort_key(query)
        return query

    # 1
    def check_parameters(self) -> None:
        names = set(self.args.keys())
        unknown = names - PARAMETERS
        if unknown:
            kind = "parameter" if len(unknown) == 1 else "parameters"
            _fail(
                "An unrecognised parameter was provided",
                f"unknown {kind} {_quoted(unknown)}; known: {', '.join(PARAMETER_ORDER)}",
            )
        for name in sorted(names - REPEATABLE):
            if len(self.args.getlist(name)) > 1:
                _fail(f"{name} can only be given once")

    # 2
    @staticmethod
    def check_period_range(
        period: str | None,
        duration: str | None,
        start_at: str | None,
        end_at: str | None,
        group_by_given: bool,
        limit: str | None,
    ) -> None:
        if period is None:
            return
        if duration is None and (start_at is None or end_at is None):
            _fail(
                "Either 'duration' or both 'start_at' and 'end_at' are required for a period query"
            )
        if limit is not None and not group_by_given:
            _fail("A period query can only be limited if it is grouped - please add 'group_by'")

    # 3
    @staticmethod
    def time_parameter(name: str, text: str | None) -> datetime | None:
        if text is None:
            return None
        if not DATETIME_PATTERN.fullmatch(text):
            _fail(f"{name} is not a valid datetime", f"got {text!r}; use {DATETIME_RULE}")
        if text[19:20] == " ":
            text = f"{text[:19]}+{text[20:]}"
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                return moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)
        except (ValueError, OverflowError):
            _fail(f"{name} is not a valid datetime", f"{text!r} is not a real date and time")

    # 4
    def filters(self) -> tuple[tuple[Filter, ...], tuple[PrefixFilter, ...]]:
        exact, prefix = self.args.getlist("filter_by"), self.args.getlist("filter_by_prefix")
        if exact and prefix:
            _fail("Cannot use filter_by and filter_by_prefix in the same query")
        pairs = []
        for parameter, values in (("filter_by", exact), ("filter_by_prefix", prefix)):
            for value in values:
                if ":" not in value:
                    _fail(
                        f"{parameter} must be a field name and value separated by "
                        "a colon (:) eg. authority:Westminster"
                    )
                name, _, text = value.partition(":")
                _check_field(parameter, name)
                if name in TIME_FIELDS:
                    _fail(
                        f"{parameter} cannot match the time field {name}: "
                        "use start_at and end_at to select a time range"
                    )
                pairs.append((parameter, name, text))
        return (
            tuple(Filter(name, text) for p, name, text in pairs if p == "filter_by"),
            tuple(PrefixFilter(name, text) for p, name, text in pairs if p != "filter_by"),
        )

    # 5
    @staticmethod
    def period(name: str | None) -> Period | None:
        if name is None:
            return None
        if name not in PERIODS:
            _fail(
                "Unrecognised grouping for period. Supported periods include: " + ", ".join(PERIODS)
            )
        return PERIODS[name]

    # 6
    def sort_by(self, has_period: bool, group_by_given: bool) -> Sort | None:
        text = self.one("sort_by")
        if text is None:
            return None
        key, colon, direction = text.rpartition(":")
        if not colon or not key:
            _fail(
                "sort_by must be a field name and sort direction separated by "
                "a colon (:) eg. authority:ascending"
            )
        if direction not in ("ascending", "descending"):
            _fail(
                "Unrecognised sort direction. Supported directions include: ascending, descending"
            )
        if has_period and not group_by_given:
            _fail(
                "Cannot sort for period queries without group_by. "
                "Period queries are always sorted by time."
            )
        name, colon, method = key.partition(":")
        _check_field("sort_by", name, internal=False)  # _count etc.: see check_sort_key
        if colon and method not in COLLECT_METHODS:
            _fail(f"sort_by key {key!r} is not a field name or a collect key like value:sum")
        return Sort(key, descending=direction == "descending")

    # 7
    def group_by(self) -> tuple[str, ...]:
        fields: list[str] = []
        for name in self.args.getlist("group_by"):
            _check_field("group_by", name, internal=False)
            if name.startswith("_"):
                _fail("Cannot group by internal fields, internal fields start with an underscore")
            if name not in fields:
                fields.append(name)
        return tuple(fields)

    # 8
    def integer(self, name: str) -> int | None:
        text = self.one(name)
        if text is None:
            return None
        if not text.isascii() or not text.isdigit():
            kind = "non-negative" if name == "limit" else "positive"
            _fail(f"{name} must be a {kind} integer", f"got {name}={text}")
        return min(int(text), MAX_LIMIT)

    # 9
    def collects(self, group_by: tuple[str, ...], period: Period | None) -> tuple[Collect, ...]:
        texts = self.args.getlist("collect")
        if texts and not group_by and period is None:
            _fail("collect is only allowed when grouping by group_by or period")
        collects: dict[str, Collect] = {}
        for text in texts:
            name, colon, method = text.partition(":")
            _check_field("collect", name, internal=False)
            if colon and method not in COLLECT_METHODS:
                _fail(
                    "Unknown collection method",
                    f"{method!r} in collect={text} is not one; "
                    f"collect methods: {', '.join(COLLECT_METHODS)}",
                )
            if name.startswith("_"):
                _fail("Cannot collect internal fields, internal fields start with an underscore")
            if name in group_by:
                _fail("Cannot collect a field that is also in group_by")
            collect = Collect(name, method or "set", legacy=not colon)
            previous = collects.get(collect.key)
            if previous is not None and previous.legacy:
                continue
            collects[collect.key] = collect
        return tuple(collects.values())

    # 10
    @staticmethod
    def check_time_parameters(
        start_at: datetime | None,
        end_at: datetime | None,
        duration: int | None,
        period: Period | None,
    ) -> None:
        if start_at and end_at and duration:
            _fail(
                "Absolute and relative time cannot be requested at the same time - "
                "either ask for 'start_at' and 'end_at', or ask for 'start_at' or "
                "'end_at' with 'duration'"
            )
        if start_at and not end_at and not duration:
            _fail("Use of 'start_at' requires 'end_at' or 'duration'")
        if end_at and not start_at and not duration:
            _fail("Use of 'end_at' requires 'start_at' or 'duration'")
        if duration and period is None:
            _fail(
                "If 'duration' is requested (for relative time), 'period' is required - "
                "please add a period (like 'day', 'month' etc)"
            )


def parse_datetime(name: str, text: str | None) -> datetime | None:
    """A time parameter in the format of ``start_at`` (aware UTC), or
    ``InvalidQuery`` naming ``name``; None when absent."""
    return _Parser.time_parameter(name, text)
