"""``GET /metrics`` and the per-request HTTP metrics of every app.

Requests are labelled by the route template that matched (``/data/<data_group>/
<data_type>``, not the path), ``unmatched`` when none did, and by method, any
method outside the HTTP ones counting as ``other``: the label sets stay small
whatever clients send.
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, g, request

from backdrop import metrics
from backdrop.web.openapi import Success, operation

METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
@operation(
    "Prometheus metrics of this app, summed over its workers",
    tag="status",
    responses={200: Success("Prometheus text format", {"type": "string"}, "text/plain")},
)
def scrape() -> Response:
    body, content_type = metrics.exposition()
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-cache"
    return response


def init_app(app: Flask, app_name: str) -> None:
    app.register_blueprint(blueprint)

    @app.before_request
    def start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def count_request(response: Response) -> Response:
        started = g.get("metrics_started")
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        method = request.method if request.method in METHODS else "other"
        metrics.HTTP_REQUESTS.labels(app_name, route, method, str(response.status_code)).inc()
        if started is not None:
            elapsed = time.perf_counter() - started
            metrics.HTTP_DURATION.labels(app_name, route, method).observe(elapsed)
        return response
