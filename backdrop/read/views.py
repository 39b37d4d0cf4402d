"""``GET /data/<group>/<type>`` and the legacy ``GET /<name>`` (SPEC 5)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from backdrop.core import reading
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.parameters import READ_PARAMETERS
from backdrop.core.query_args import parse_query
from backdrop.errors import NotFound
from backdrop.read import raw, renderers
from backdrop.web import headers
from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation

blueprint = Blueprint("read", __name__)


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
    if config is None or not config.queryable:
        raise NotFound("data_set not found")
    query = parse_query(request.args, raw_queries_allowed=config.raw_queries_allowed)
    s = services()
    if query.is_grouped:
        rows = reading.execute(s.engine, config.name, query)
        response = renderers.render(query.format, rows, config.published)
    else:
        response = raw.respond(s.engine, config, query, s.settings.max_raw_records)
    response.headers["Cache-Control"] = headers.cache_control(config)
    return response
