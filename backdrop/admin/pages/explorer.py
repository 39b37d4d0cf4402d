"""The query explorer: a form for every read parameter, the result as a chart
and a table, the exact read-API URL, and a CSV download.

The page's own query string *is* the read query (the same parameter names),
so a view can be bookmarked and shared; empty form fields are dropped by one
redirect to the clean URL. The query runs through the same parser and
reader as the read app, so it gets the same answers and the same 400s.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from backdrop.admin import charts, links
from backdrop.admin.declare import page
from backdrop.core import reading
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.periods import PERIODS
from backdrop.core.query import COLLECT_METHODS, Query, Sort, Where
from backdrop.core.query_args import parse_query
from backdrop.errors import InvalidQuery
from backdrop.read.renderers import render_csv
from backdrop.web.extension import services

blueprint = Blueprint("explorer", __name__)

MAX_TABLE_ROWS = 1000  # shown on the page; the CSV download has every row
FIELD_SAMPLE = 200


def cleaned_args() -> list[tuple[str, str]]:
    return [(k, v.strip()) for k, v in request.args.items(multi=True) if v.strip()]


def run(config: DataSetConfig, query: Query) -> list[dict[str, Any]]:
    if not query.is_grouped and (query.limit is None or query.limit > MAX_TABLE_ROWS):
        # Raw records: read one more than the page shows, never the whole data set.
        query = replace(query, limit=MAX_TABLE_ROWS + 1)
    return reading.execute(services().engine, config.name, query)


def known_fields(name: str) -> list[str]:
    """Fields of the latest records, for the form's suggestions."""
    records = services().engine.records.find(
        name, Where(), Sort("_updated_at", descending=True), FIELD_SAMPLE
    )
    return sorted({key for record in records for key in record if not key.startswith("_")})


def ordered_columns(columns: list[str], query: Query) -> list[str]:
    first = [*query.group_by, "_start_at", "_end_at"]
    return [c for c in first if c in columns] + [c for c in columns if c not in first]


@blueprint.get("/data-sets/<name>/explore")
@page("The query explorer: its query string is a read query (chart, table, URL)", 400, 404)
def explore(name: str) -> Response | tuple[str, int]:
    config = services().registry.get(name)
    args = cleaned_args()
    if len(args) != len(list(request.args.items(multi=True))):
        return redirect(url_for("explorer.explore", name=name) + "?" + urlencode(args))
    query_string = urlencode(args)
    query = error = None
    rows: list[dict[str, Any]] = []
    if args:
        try:
            query = parse_query(MultiDict(args), raw_queries_allowed=config.raw_queries_allowed)
            rows = run(config, query)
        except InvalidQuery as invalid:
            error, query = invalid, None
    columns, table_rows = charts.table(rows)
    page = render_template(
        "explorer.html",
        config=config,
        args=MultiDict(args),
        error=error,
        query=query,
        chart=charts.chart(query, rows) if query else None,
        columns=ordered_columns(columns, query) if query else columns,
        rows=table_rows[:MAX_TABLE_ROWS],
        more_rows=len(table_rows) > MAX_TABLE_ROWS,
        read_api_url=f"{links.read_url()}/data/{config.data_group}/{config.data_type}"
        + (f"?{query_string}" if query_string else ""),
        csv_url=url_for("explorer.csv", name=name) + (f"?{query_string}" if query_string else ""),
        periods=list(PERIODS),
        methods=sorted(COLLECT_METHODS),
        fields=known_fields(name),
        query_string=query_string,
    )
    return page, 400 if error else 200


@blueprint.get("/data-sets/<name>/explore.csv")
@page("The explorer's result as CSV", 400, 404, content_type="text/csv")
def csv(name: str) -> Response:
    """The whole result as CSV, laid out as the read API's ``format=csv``."""
    config = services().registry.get(name)
    args = MultiDict([(k, v) for k, v in cleaned_args() if k != "format"])
    query = parse_query(args, raw_queries_allowed=config.raw_queries_allowed)
    response = render_csv(reading.execute(services().engine, config.name, query))
    response.headers["Content-Disposition"] = f"attachment; filename={name}.csv"
    return response
