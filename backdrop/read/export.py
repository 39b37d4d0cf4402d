"""``GET /data/<group>/<type>/records``: the paged export of SPEC 13.

JSON pages are small (at most ``export.MAX_LIMIT`` records) and built whole,
so they get an ETag like every read; ``format=jsonl`` and ``csv`` stream the
whole data set a page at a time, so the worker's memory is bounded by the
page size, not the data set. A stream cannot change its status once sent: a
database failure part-way ends it early and is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from backdrop.core import export
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.parameters import EXPORT_PARAMETERS
from backdrop.core.storage.base import RecordStore
from backdrop.errors import BackdropError, NotFound, Unauthorized
from backdrop.read import renderers
from backdrop.web import headers
from backdrop.web.extension import services
from backdrop.web.json import dumps
from backdrop.web.openapi import Success, operation

blueprint = Blueprint("export", __name__)
log = logging.getLogger(__name__)


@blueprint.get("/data/<data_group>/<data_type>/records")
@operation(
    "Export every record of a data set, page by page",
    tag="read",
    query=EXPORT_PARAMETERS,
    description="Keyset pages in _id order (SPEC 13); follow next until it is null. "
    "Data sets with raw_queries_allowed false need their bearer token.",
    responses={
        200: Success(
            "one page (format=json), or the whole data set streamed (jsonl, csv)",
            "ExportPage",
            also={"application/x-ndjson": {"type": "string"}, "text/csv": {"type": "string"}},
        ),
        304: Success("If-None-Match matched the ETag"),
        400: "BadRequest",
        401: "Unauthorized",
        404: "NotFound",
        503: "Unavailable",
    },
)
def export_records(data_group: str, data_type: str) -> Response:
    config = services().registry.find(data_group, data_type)
    if config is None or not config.queryable:
        raise NotFound("data_set not found")
    if not config.raw_queries_allowed:
        _require_token(config)
    wanted = export.parse_export(request.args)
    records = services().engine.records
    if wanted.format == "json":
        response = _page(records, config, wanted)
    else:
        lines = _stream(records, config.name, wanted)
        if wanted.format == "csv":
            response = renderers.csv_response(lines)
        else:
            response = Response(lines, content_type="application/x-ndjson")
        if not config.published:
            response.headers["Warning"] = f'299 - "{renderers.UNPUBLISHED_WARNING}"'
    response.headers["Cache-Control"] = headers.cache_control(config)
    return response


def _require_token(config: DataSetConfig) -> None:
    """Data sets closed to raw queries export only to their own bearer token."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized()
    if not config.token_matches(token):
        raise Unauthorized(f"Unauthorized: Invalid bearer token '{token}' for '{config.name}'")


def _next_url(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "next-id"]
    return f"{request.base_url}?{urlencode([*args, ('next-id', cursor)])}"


def _page(records: RecordStore, config: DataSetConfig, wanted: export.Export) -> Response:
    found, cursor = export.page(records, config.name, wanted)
    body: dict[str, Any]
    if wanted.orientation == "tabular":
        keys, values = export.tabular(found)
        body = {"headers": keys, "values": values}
    else:
        body = {"results": found}
    body["next"] = _next_url(cursor)
    if not config.published:
        body["warning"] = renderers.UNPUBLISHED_WARNING
    return Response(dumps(body), mimetype="application/json")


def _stream(records: RecordStore, data_set: str, wanted: export.Export) -> Iterator[bytes]:
    """The whole walk, one chunk per page. CSV needs its header row first, so
    a first walk gathers the keys (the records are read twice; only the keys
    are kept): a key first written during the walk is left out of the file."""
    try:
        if wanted.format == "csv":
            pages = export.walk(records, data_set, wanted)
            writer = renderers.CsvWriter(sorted({k for page in pages for r in page for k in r}))
            yield writer.header()
            for page in export.walk(records, data_set, wanted):
                yield writer.rows(page)
        else:
            for page in export.walk(records, data_set, wanted):
                yield b"".join(dumps(record) + b"\n" for record in page)
    except BackdropError as error:
        log.error("export of %s ended early: %s", data_set, error.describe())
