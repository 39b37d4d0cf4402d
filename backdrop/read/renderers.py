"""Response bodies by ``format=``: JSON (the default) and CSV (SPEC 5.4)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import orjson
from flask import Response

from backdrop.web.json import dumps

UNPUBLISHED_WARNING = (
    "Warning: This data-set is unpublished. Data may be subject to change or be inaccurate."
)


def render_json(rows: list[dict[str, Any]], published: bool) -> Response:
    body: dict[str, Any] = {"data": rows}
    if not published:
        body["warning"] = UNPUBLISHED_WARNING
    return Response(dumps(body), mimetype="application/json")


def csv_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nested groups become one row per period: the group's keys, overlaid by
    the period's own ``_start_at``, ``_end_at``, ``_count`` and collects."""
    flat: list[dict[str, Any]] = []
    for row in rows:
        if isinstance(row.get("values"), list):
            group = {key: value for key, value in row.items() if key != "values"}
            flat.extend({**group, **value} for value in row["values"])
        else:
            flat.append(row)
    return flat


def csv_cell(value: Any) -> str:
    """A value as text; times ISO 8601 as in JSON, lists and booleans as JSON."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool | list | dict):
        return orjson.dumps(value).decode()
    return str(value)


def render_csv(rows: list[dict[str, Any]]) -> Response:
    flat = csv_rows(rows)
    keys = sorted({key for row in flat for key in row})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if keys:
        writer.writerow(keys)
    for row in flat:
        writer.writerow([csv_cell(row.get(key)) for key in keys])
    response = Response(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = "attachment; filename=export.csv"
    return response


def render(output_format: str, rows: list[dict[str, Any]], published: bool) -> Response:
    if output_format == "csv":
        return render_csv(rows)
    return render_json(rows, published)
