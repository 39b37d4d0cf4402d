"""Response bodies by ``format=``: JSON (the default) and CSV (SPEC 5.4)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
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


# OWASP's CSV-injection rule: text a spreadsheet would read as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as text; times ISO 8601 as in JSON, lists and booleans as JSON.
    Text starting like a formula gets a leading ``'`` so a spreadsheet shows
    it as text instead of running it; numbers (``-5``) are left alone."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool | list | dict):
        return orjson.dumps(value).decode()
    return str(value)


class CsvWriter:
    """CSV of rows with fixed ``keys``, written a batch at a time so a stream
    stays bounded. Every CSV the read app sends is written here."""

    def __init__(self, keys: list[str]):
        self.keys = keys
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def _take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()

    def header(self) -> bytes:
        if self.keys:
            self._writer.writerow(self.keys)
        return self._take()

    def rows(self, rows: Iterable[dict[str, Any]]) -> bytes:
        self._writer.writerows([csv_cell(row.get(key)) for key in self.keys] for row in rows)
        return self._take()


def csv_response(lines: Iterable[bytes]) -> Response:
    """A CSV attachment; an iterator is streamed, so memory stays bounded."""
    response = Response(lines, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = "attachment; filename=export.csv"
    return response


def render_csv(rows: list[dict[str, Any]]) -> Response:
    flat = csv_rows(rows)
    keys = sorted({key for row in flat for key in row})
    writer = CsvWriter(keys)
    return csv_response([writer.header() + writer.rows(flat)])


def render(output_format: str, rows: list[dict[str, Any]], published: bool) -> Response:
    if output_format == "csv":
        return render_csv(rows)
    return render_json(rows, published)
