"""What the read and write apps share about dashboards: the app's
``Dashboards``, built on first use and kept for the app's life (so the
coarse-grained ``last_fetched`` bookkeeping lasts across requests), and the
open ``GET /dashboards/schema`` both apps serve."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from backdrop.core.dashboards.eviction import Limits
from backdrop.core.dashboards.store import Dashboards
from backdrop.core.dashboards.validation import schema
from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation

schema_blueprint = Blueprint("dashboard_schema", __name__)


def dashboards() -> Dashboards:
    found = current_app.extensions.get("backdrop_dashboards")
    if found is None:
        found = Dashboards(services().engine, Limits.from_settings(services().settings))
        current_app.extensions["backdrop_dashboards"] = found
    return found


@schema_blueprint.get("/dashboards/schema")
@operation(
    "The JSON Schema dashboards follow",
    tag="dashboards",
    responses={200: Success("JSON Schema 2020-12", {"type": "object"})},
)
def dashboard_schema() -> Response:
    return jsonify(schema())
