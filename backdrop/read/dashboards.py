"""Published dashboards for anyone, without a token (SPEC 11)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from backdrop.web.dashboards import dashboards
from backdrop.web.openapi import Success, operation

blueprint = Blueprint("dashboards", __name__)


@blueprint.get("/dashboards/<dashboard_id>")
@operation(
    "A published dashboard: the tiles whose data sets are queryable and published",
    tag="dashboards",
    responses={
        200: Success(
            "the dashboard, each tile with the read-API path to query", {"type": "object"}
        ),
        404: "NotFound",
        503: "Unavailable",
    },
)
def published(dashboard_id: str):
    return jsonify(dashboards().public(dashboard_id))
