"""``GET /_status`` for both apps: 200 when the database answers, else 503."""

from __future__ import annotations

from flask import Blueprint, jsonify

from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation

blueprint = Blueprint("status", __name__)


@blueprint.get("/_status")
@operation(
    "Whether the app is up and its database answers",
    tag="status",
    responses={200: Success("up", "Status"), 503: "Unavailable"},
)
def status():
    services().engine.ping()  # raises StorageUnavailable → 503
    response = jsonify({"status": "ok", "message": "app is up"})
    response.headers["Cache-Control"] = "no-cache"
    return response
