"""``GET /data/<group>/<type>`` and the legacy ``GET /<name>`` (SPEC 5)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask, Response, current_app, request

from backdrop.core import reading, result_cache
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.parameters import READ_PARAMETERS
from backdrop.core.query import Query
from backdrop.core.query_args import parse_query
from backdrop.core.result_cache import Entry, Key, ResultCache
from backdrop.core.rollups import DataSetState
from backdrop.errors import NotFound
from backdrop.read import raw, renderers
from backdrop.web import headers
from backdrop.web.extension import Services, services
from backdrop.web.openapi import Success, operation

blueprint = Blueprint("read", __name__)
CACHE = "backdrop_result_cache"  # the key of the app's ResultCache in app.extensions


def init_app(app: Flask) -> None:
    """Give the app its process's result cache, sized by BACKDROP_RESULT_CACHE_BYTES."""
    app.extensions[CACHE] = ResultCache(app.extensions["backdrop"].settings.result_cache_bytes)


def _query_operation(summary: str):
    return operation(
        summary,
        tag="read",
        query=READ_PARAMETERS,
        description="Filters, time ranges, grouping and collects as in SPEC 5; the parameters "
        "are checked in SPEC 5.2's order and the first broken rule is the 400's message.",
        responses={
            200: Success(
                "the rows (CSV with format=csv)",
                "QueryResult",
                also={"text/csv": {"type": "string"}},
            ),
            304: Success("If-None-Match matched the ETag"),
            400: "BadRequest",
            404: "NotFound",
            503: "Unavailable",
        },
    )


@blueprint.get("/data/<data_group>/<data_type>")
@_query_operation("Query a data set")
def data_set_by_address(data_group: str, data_type: str) -> Response:
    return query_data_set(services().registry.find(data_group, data_type))


@blueprint.get("/<name>")
@_query_operation("Query a data set by name (deprecated address)")
def data_set_by_name(name: str) -> Response:
    """The deprecated address, still used by old clients."""
    return query_data_set(services().registry.find_by_name(name))


def query_data_set(config: DataSetConfig | None) -> Response:
    """The answer, from the result cache when the data set has not changed
    since it was computed. The version is read once, before the query, so an
    answer is kept under a version no newer than the data it was computed
    from: once a write is acknowledged, no reader finds an answer missing it."""
    if config is None or not config.queryable:
        raise NotFound("data_set not found")
    query = parse_query(request.args, raw_queries_allowed=config.raw_queries_allowed)
    s = services()
    state = s.engine.records.state(config.name)
    now = result_cache.utcnow()
    cache: ResultCache = current_app.extensions[CACHE]
    key = result_cache.key(config, state.version, query, now)
    entry = cache.get(key)
    if entry is not None:
        response = Response(entry.body, headers=list(entry.headers))
    else:
        response = _answer(s, config, query, state, now)
        _keep(cache, key, response)
    response.headers["Cache-Control"] = headers.cache_control(config)
    return response


def _answer(
    s: Services, config: DataSetConfig, query: Query, state: DataSetState, now: datetime
) -> Response:
    if query.is_grouped:
        rows = reading.execute(s.engine, config.name, query, now=now, state=state)
        return renderers.render(query.format, rows, config.published)
    return raw.respond(s.engine, config, query, s.settings.max_raw_records)


def _keep(cache: ResultCache, key: Key, response: Response) -> None:
    """Keep a whole 200 body (never a stream) with the ETag the app would
    give it, so a hit sends the same bytes and headers."""
    if not cache.enabled or response.status_code != 200 or response.is_streamed:
        return
    response.add_etag()
    kept = tuple((k, v) for k, v in response.headers.items() if k != "Content-Length")
    cache.put(key, Entry(response.get_data(), kept))
