"""The read app (port 3038): queries, CSV export, status and freshness."""

from __future__ import annotations

from flask import Flask, Response, request

from backdrop.read import dashboards, export, freshness, sources_status, views
from backdrop.settings import Settings
from backdrop.web import headers, index
from backdrop.web.app import base_app
from backdrop.web.dashboards import schema_blueprint


def create_app(settings: Settings | None = None) -> Flask:
    app = base_app(__name__, settings)
    views.init_app(app)
    app.register_blueprint(freshness.blueprint)
    app.register_blueprint(dashboards.blueprint)  # published dashboards (SPEC 11)
    app.register_blueprint(schema_blueprint)  # GET /dashboards/schema, open
    app.register_blueprint(sources_status.blueprint)
    app.register_blueprint(export.blueprint)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(
        index.blueprint_for(
            "read",
            {
                "data": "/data/<data_group>/<data_type>",
                "freshness": "/_status/data-sets",
                "export": "/data/<data_group>/<data_type>/records",
            },
        )
    )

    @app.after_request
    def read_headers(response: Response) -> Response:
        """Every read response, errors included, may be read cross-origin;
        every 200 to a GET carries an ETag and honours If-None-Match (but a
        streamed body, which is never held whole, has none)."""
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and not response.is_streamed
        ):
            response = headers.conditional(response, request)
        return headers.add_cors(response, preflight=request.method == "OPTIONS")

    return app
