"""``GET /_status/sources``: which sources failed their last run (SPEC 12),
shaped like ``/_status/data-sets``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from backdrop.core.sources import manage
from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation

blueprint = Blueprint("sources_status", __name__)


@blueprint.get("/_status/sources")
@operation(
    "Sources whose last run failed",
    tag="status",
    responses={
        200: Success("all ok, or the sources whose last run failed", "SourcesStatus"),
        503: "Unavailable",
    },
)
def sources_status() -> Response:
    failed = manage.failing(services().engine)
    body: dict[str, Any]
    if not failed:
        body = {"status": "ok", "sources": None, "message": "All sources ran fine last time"}
    else:
        count = len(failed)
        noun = "source" if count == 1 else "sources"
        body = {"status": "not okay", "sources": failed,
                "message": f"{count} {noun} failed last time"}  # fmt: skip
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-cache"
    return response
