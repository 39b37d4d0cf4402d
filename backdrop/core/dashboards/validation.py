"""A dashboard checked whole: the JSON Schema first, then each tile's query
against the read API's rules and the data sets that exist (SPEC 11).

Every problem found is reported, each naming its JSON path (``tiles[1].chart``)
and what is allowed there, so one 400 tells the author everything to fix.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import orjson

from backdrop.core.data_sets import Registry
from backdrop.core.query_args import parse_query
from backdrop.errors import BadRequest, InvalidQuery

MAX_ID_LENGTH = 100
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
RESERVED_IDS = frozenset(("schema", "usage"))  # routes of their own under /dashboards/
ID_RULE = (
    f"ids match {ID_PATTERN.pattern}, at most {MAX_ID_LENGTH} characters, "
    f"and are not {' or '.join(sorted(RESERVED_IDS))}"
)


class InvalidDashboard(BadRequest):
    """The dashboard breaks the schema or a tile's query is refused; nothing was stored."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__(
            "Invalid dashboard: " + "; ".join(messages),
            detail="GET /dashboards/schema gives the JSON Schema dashboards follow",
        )

    def body(self) -> dict[str, Any]:
        return {**super().body(), "messages": self.messages}


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package (served at ``GET /dashboards/schema``)."""
    text = resources.files(__package__).joinpath("schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema())
    validator: jsonschema.protocols.Validator = cls(schema())
    return validator


def json_path(path: Any) -> str:
    """``("tiles", 1, "chart")`` → ``tiles[1].chart`` (``$`` for the whole document)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "$"


def _schema_messages(body: Any) -> list[str]:
    errors = sorted(
        _validator().iter_errors(body), key=lambda e: (list(map(str, e.path)), e.message)
    )
    messages = []
    for error in errors:
        if error.validator == "if":
            continue  # its "then" error says what is missing
        messages.append(f"{json_path(error.absolute_path)}: {_described(error)}")
    return messages


RATE_NEEDS = "a rate tile needs options numerator_matcher, denominator_matcher, matching_attribute"


def _described(error: jsonschema.ValidationError) -> str:
    if "then" in error.schema_path:  # the rule of rate tiles
        return f"{error.message} ({RATE_NEEDS})"
    if error.validator == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        return f"{json.dumps(error.instance)} is not allowed; use one of {allowed}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        return f"{error.message}; allowed: {', '.join(known)}"
    return str(error.message)


def _query_messages(tiles: list[dict[str, Any]], registry: Registry) -> list[str]:
    messages = []
    for index, tile in enumerate(tiles):
        config = registry.find_by_name(tile["data_set"])
        if config is None:
            messages.append(f"tiles[{index}].data_set: no data set named {tile['data_set']!r}")
            continue
        try:
            parse_query(tile.get("query", {}), raw_queries_allowed=config.raw_queries_allowed)
        except InvalidQuery as error:
            messages.append(f"tiles[{index}].query: {error.describe()}")
    return messages


def validate(body: Any, registry: Registry) -> dict[str, Any]:
    """The dashboard with defaults filled, or ``InvalidDashboard`` listing every problem."""
    messages = _schema_messages(body)
    if messages:
        raise InvalidDashboard(messages)
    messages = _query_messages(body["tiles"], registry)
    if messages:
        raise InvalidDashboard(messages)
    tiles = [{"query": {}, "options": {}, **tile} for tile in body["tiles"]]
    return {"description": "", "published": False, **body, "tiles": tiles}


def size_of(body: Any) -> int:
    """Bytes a dashboard counts against the limits: its compact JSON."""
    return len(orjson.dumps(body))


def slug(title: str) -> str:
    """An id from a title: lowercase letters and digits joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    text = "-".join(words)[: MAX_ID_LENGTH - 10].strip("-")
    return f"{text}-dashboard" if text in RESERVED_IDS else text or "dashboard"


def check_id(dashboard_id: str) -> None:
    too_long = len(dashboard_id) > MAX_ID_LENGTH
    if too_long or dashboard_id in RESERVED_IDS or not ID_PATTERN.fullmatch(dashboard_id):
        raise BadRequest(f"Invalid dashboard id {dashboard_id!r}", detail=ID_RULE)
