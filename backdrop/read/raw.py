"""Raw reads (no ``group_by``, no ``period``) answered from a database cursor.

A result of up to ``STREAM_AFTER`` records is answered as before: one body,
with a strong ETag of that body. A larger one is streamed, a batch at a
time, so the worker's memory stays bounded whatever the result's size; its
ETag is then a digest of what the body depends on (the query string, the
data set's record count, newest ``_updated_at`` and publication), since the
body is never held whole. Every write changes the newest ``_updated_at`` and
every delete the count, so a changed data set never matches an old ETag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from itertools import chain, islice
from typing import Any

from flask import Response, request

from backdrop import metrics
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.query import Query
from backdrop.core.storage.base import Record, StorageEngine
from backdrop.errors import InvalidQuery
from backdrop.read import renderers
from backdrop.web.json import dumps

STREAM_AFTER = 1000


def respond(engine: StorageEngine, config: DataSetConfig, query: Query, max_raw: int) -> Response:
    """The raw read's response; a query that could match more than
    ``max_raw`` records (BACKDROP_MAX_RAW_RECORDS) is a 400 before any body is
    sent, so one request's work stays bounded."""
    records = engine.records
    head = min(STREAM_AFTER, max_raw)
    with metrics.QUERY_DURATION.labels("raw").time():
        found = records.scan(config.name, query.where, query.sort_by, query.limit)
        first = list(islice(found, head + 1))
        if len(first) > head and _more_than(engine, config, query, max_raw, len(first)):
            found.close()
            raise InvalidQuery(
                f"This query would return more than {max_raw} records "
                "(BACKDROP_MAX_RAW_RECORDS): add limit, narrow start_at/end_at or filter_by, "
                "or read the whole data set page by page from /data/<group>/<type>/records"
            )
    if len(first) <= STREAM_AFTER:
        return renderers.render(query.format, first, config.published)
    tag = _etag(engine, config)
    if request.if_none_match.contains(tag):
        found.close()
        response = Response(status=304)
    elif query.format == "csv":
        found.close()
        response = renderers.csv_response(_csv(engine, config, query))
    else:
        body = _json(chain(first, found), config.published)
        response = Response(body, mimetype="application/json")
    response.set_etag(tag)
    return response


def _more_than(
    engine: StorageEngine, config: DataSetConfig, query: Query, max_raw: int, seen: int
) -> bool:
    """Whether the query matches more than ``max_raw`` records. Only a data
    set holding more is counted, and then the database reads at most
    ``max_raw + 1`` matches, keeping none."""
    if query.limit is not None and query.limit <= max_raw:
        return False
    if seen > max_raw:
        return True
    if engine.records.count(config.name) <= max_raw:  # no query of it can match more
        return False
    counted = engine.records.scan(config.name, query.where, None, max_raw + 1)
    return sum(1 for _ in counted) > max_raw


def _etag(engine: StorageEngine, config: DataSetConfig) -> str:
    newest = engine.records.last_updated(config.name)
    parts = [request.query_string.decode(errors="replace"), config.name,
             str(engine.records.count(config.name)), newest.isoformat() if newest else "",
             str(config.published)]  # fmt: skip
    return "s-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _batches(records: Iterator[Record]) -> Iterator[list[Record]]:
    while batch := list(islice(records, STREAM_AFTER)):
        yield batch


def _json(records: Iterator[Record], published: bool) -> Iterator[bytes]:
    """The bytes ``renderers.render_json`` would send, a batch at a time."""
    yield b'{"data":['
    separator = b""
    for batch in _batches(records):
        yield separator + b",".join(dumps(record) for record in batch)
        separator = b","
    tail: dict[str, Any] = {} if published else {"warning": renderers.UNPUBLISHED_WARNING}
    yield b"]" + (b"," + dumps(tail)[1:] if tail else b"}")


def _csv(engine: StorageEngine, config: DataSetConfig, query: Query) -> Iterator[bytes]:
    """A first pass for the header (every key, sorted), then the rows."""

    def scan() -> Iterator[Record]:
        return engine.records.scan(config.name, query.where, query.sort_by, query.limit)

    writer = renderers.CsvWriter(sorted({key for record in scan() for key in record}))
    yield writer.header()
    for batch in _batches(scan()):
        yield writer.rows(batch)
