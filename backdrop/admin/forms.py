"""Data-set config forms → the JSON body the registry takes (SPEC 2).

A form only turns text into JSON values; the registry then applies the same
rules and messages as the admin API. Each field that cannot be read raises
``BadRequest`` naming it and saying what is allowed.
"""

from __future__ import annotations

from typing import Any

import orjson
from werkzeug.datastructures import MultiDict

from backdrop.core.data_sets import DataSetConfig
from backdrop.errors import BadRequest

BOOLEANS = ("raw_queries_allowed", "queryable", "published", "realtime")
TEXT_FIELDS = ("data_group", "data_type")


def _count(form: MultiDict[str, str], key: str, empty: int | None, what: str) -> int | None:
    text = form.get(key, "").strip()
    if not text:
        return empty
    if not (text.isascii() and text.isdigit()):
        raise BadRequest(
            f"{key} must be a whole number of {what}, or empty", detail=f"got {text!r}"
        )
    return int(text)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _dimensions(text: str) -> list[str | list[str]] | None:
    """``channel, region, department+page``: entries by comma or line, the
    fields of one group joined by ``+``."""
    entries: list[str | list[str]] = []
    for entry in _names(text):
        fields = [part.strip() for part in entry.split("+")]
        entries.append(fields[0] if len(fields) == 1 else fields)
    return entries or None


def _dimensions_text(dimensions: list[str | list[str]] | None) -> str:
    entries = dimensions or []
    return ", ".join(e if isinstance(e, str) else "+".join(e) for e in entries)


def config_body(form: MultiDict[str, str], *, creating: bool) -> dict[str, Any]:
    """The config fields a data-set form describes."""
    body: dict[str, Any] = {}
    if creating:
        body["name"] = form.get("name", "").strip()
    for key in TEXT_FIELDS:
        value = form.get(key, "").strip()
        if value or not creating:
            body[key] = value
    for key in BOOLEANS:
        body[key] = form.get(key) == "on"
    body["max_age_expected"] = _count(form, "max_age_expected", None, "seconds")
    body["capped_size"] = _count(form, "capped_size", 0, "bytes")
    schema = form.get("schema", "").strip()
    try:
        body["schema"] = orjson.loads(schema) if schema else None
    except orjson.JSONDecodeError as error:
        raise BadRequest("schema is not valid JSON", detail=str(error)) from None
    auto_ids = _names(form.get("auto_ids", ""))
    body["auto_ids"] = auto_ids or None
    body["upload_format"] = form.get("upload_format", "csv")
    body["upload_filters"] = _names(form.get("upload_filters", ""))
    body["dimensions"] = _dimensions(form.get("dimensions", ""))
    body["measures"] = _names(form.get("measures", "")) or None
    body["rollup_grain"] = form.get("rollup_grain", "day")
    return body


def form_values(config: DataSetConfig | None) -> dict[str, Any]:
    """The text each field shows: a config's values, or the defaults."""
    if config is None:
        config = DataSetConfig(name="", data_group="", data_type="")
    values = config.public()
    values["max_age_expected"] = "" if config.max_age_expected is None else config.max_age_expected
    values["capped_size"] = config.capped_size or 0
    values["schema"] = (
        orjson.dumps(config.schema, option=orjson.OPT_INDENT_2).decode() if config.schema else ""
    )
    values["auto_ids"] = ", ".join(config.auto_ids or [])
    values["upload_filters"] = ", ".join(config.upload_filters)
    values["dimensions"] = _dimensions_text(config.dimensions)
    values["measures"] = ", ".join(config.measures or [])
    return values


def submitted_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the person typed, to show the form again after an error."""
    values: dict[str, Any] = {key: form.get(key, "") for key in form}
    for key in BOOLEANS:
        values[key] = form.get(key) == "on"
    return values
