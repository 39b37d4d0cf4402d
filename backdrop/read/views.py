"""``GET /data/<group>/<type>`` and the legacy ``GET /<name>`` (SPEC 5)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from backdrop.core import reading
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.query_args import parse_query
from backdrop.errors import NotFound
from backdrop.read import renderers
from backdrop.web import headers
from backdrop.web.extension import services

blueprint = Blueprint("read", __name__)


@blueprint.get("/data/<data_group>/<data_type>")
def data_set_by_address(data_group: str, data_type: str) -> Response:
    return query_data_set(services().registry.find(data_group, data_type))


@blueprint.get("/<name>")
def data_set_by_name(name: str) -> Response:
    """The deprecated address, still used by old clients."""
    return query_data_set(services().registry.find_by_name(name))


def query_data_set(config: DataSetConfig | None) -> Response:
    if config is None or not config.queryable:
        raise NotFound("data_set not found")
    query = parse_query(request.args, raw_queries_allowed=config.raw_queries_allowed)
    rows = reading.execute(services().engine, config.name, query)
    response = renderers.render(query.format, rows, config.published)
    response.headers["Cache-Control"] = headers.cache_control(config)
    return response
