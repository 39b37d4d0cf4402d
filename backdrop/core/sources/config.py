"""Source configs (SPEC 12): what a source is, checked once when it is added.

A config is stored as a document of kind ``source``; ``SourceConfig.body``
is that document. Header values are either ``env:VAR`` (read from the
worker's environment at run time) or plain text; secrets must be ``env:``,
so headers that carry credentials refuse plain values.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from backdrop.core.names import KEY_PATTERN
from backdrop.core.sources import schedule as schedules
from backdrop.errors import BadRequest

FORMATS = ("csv", "xlsx", "json", "jsonl")
MODES = ("append", "replace")
FIELDS = ("url", "format", "schedule", "records_path", "headers", "mapping", "mode")
ENV_VALUE = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|password|key", re.IGNORECASE)


@dataclass(frozen=True)
class SourceConfig:
    id: str
    data_set: str
    url: str
    format: str
    schedule: str
    records_path: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    mapping: dict[str, Any] = field(default_factory=dict)
    mode: str = "append"
    created_at: str = ""

    def body(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SourceConfig:
        return cls(**{key: body[key] for key in cls.__dataclass_fields__ if key in body})


def _url(value: Any) -> str:
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
    except ValueError:  # e.g. "http://[::1": an unclosed IPv6 address
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("url must be an http:// or https:// URL", detail=f"got {value!r}")
    return str(value)


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(allowed)}", detail=f"got {value!r}")
    return str(value)


def _records_path(value: Any, fmt: str) -> str | None:
    if value is None or value == "":
        return None
    if fmt != "json":
        raise BadRequest("records_path is only for format json")
    if not isinstance(value, str) or not value.startswith("/"):
        raise BadRequest(
            "records_path must be a JSON Pointer such as /data/items", detail=f"got {value!r}"
        )
    return value


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest("headers must be an object of header names and values")
    for name, text in value.items():
        if not HEADER_NAME.fullmatch(name) or not isinstance(text, str) or "\n" in text:
            raise BadRequest(f"header {name!r} must be a header name with a string value")
        if SECRET_HEADER.search(name) and not ENV_VALUE.fullmatch(text):
            raise BadRequest(
                f"header {name} must be env:VARIABLE",
                detail="credentials are read from the worker's environment at run time "
                "and never stored in the database",
            )
    return dict(value)


def _mapping(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - {"rename", "drop"}:
        raise BadRequest('mapping must be {"rename": {"from": "to"}, "drop": ["field"]}')
    rename, drop = value.get("rename") or {}, value.get("drop") or []
    if not isinstance(rename, dict) or not all(isinstance(v, str) for v in rename.values()):
        raise BadRequest("mapping.rename must be an object of field names to new names")
    for target in rename.values():
        if not KEY_PATTERN.fullmatch(target):
            raise BadRequest(f"mapping.rename target {target!r} is not a valid key")
    if not isinstance(drop, list) or not all(isinstance(v, str) for v in drop):
        raise BadRequest("mapping.drop must be a list of field names")
    return {"rename": rename, "drop": drop}


def from_request(body: Any, data_set: str, source_id: str, created_at: str) -> SourceConfig:
    """A new source's config from an API body, or 400 naming the bad field."""
    if not isinstance(body, dict):
        raise BadRequest("a source must be a JSON object", detail="fields: " + ", ".join(FIELDS))
    unknown = set(body) - set(FIELDS)
    if unknown:
        raise BadRequest(
            f"unknown source field(s): {', '.join(sorted(unknown))}",
            detail="fields: " + ", ".join(FIELDS),
        )
    for required in ("url", "format", "schedule"):
        if required not in body:
            raise BadRequest(f"a source needs {required}")
    fmt = _choice("format", body["format"], FORMATS)
    return SourceConfig(
        id=source_id,
        data_set=data_set,
        url=_url(body["url"]),
        format=fmt,
        schedule=schedules.check(body["schedule"]),
        records_path=_records_path(body.get("records_path"), fmt),
        headers=_headers(body.get("headers")),
        mapping=_mapping(body.get("mapping")),
        mode=_choice("mode", body.get("mode", "append"), MODES),
        created_at=created_at,
    )
