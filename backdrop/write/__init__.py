"""The write app (port 3039): record writes, the admin API, transform triggers."""

from __future__ import annotations

from flask import Flask

from backdrop.settings import Settings
from backdrop.transformers.dispatch import make_dispatcher
from backdrop.transformers.rollup_tasks import make_builds
from backdrop.web import index
from backdrop.web.app import base_app
from backdrop.web.dashboards import schema_blueprint
from backdrop.write import admin, dashboards, records, sources_admin, transforms_admin, uploads


def create_app(settings: Settings | None = None) -> Flask:
    # No CORS on the write app: OPTIONS answers 405 like any other unsupported
    # method, so every 2xx is a JSON body.
    app = base_app(
        __name__, settings, make_dispatcher, make_builds, PROVIDE_AUTOMATIC_OPTIONS=False
    )
    # Werkzeug's own guard for bodies read outside read_body (e.g. multipart).
    app.config["MAX_CONTENT_LENGTH"] = app.extensions["backdrop"].settings.max_body_bytes
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(transforms_admin.blueprint)  # transforms (SPEC 6/7)
    app.register_blueprint(dashboards.blueprint)  # dashboards (SPEC 11)
    app.register_blueprint(schema_blueprint)  # GET /dashboards/schema, open
    app.register_blueprint(sources_admin.blueprint)  # sources (SPEC 12)
    app.register_blueprint(uploads.blueprint)  # file uploads (SPEC 8)
    app.register_blueprint(records.blueprint)
    app.register_blueprint(
        index.blueprint_for(
            "write", {"data": "/data/<data_group>/<data_type>", "data_sets": "/data-sets"}
        )
    )
    return app
