"""The write app (port 3039): record writes, the admin API, transform triggers."""

from __future__ import annotations

from flask import Flask

from backdrop.logging import configure_logging
from backdrop.settings import Settings
from backdrop.web import status
from backdrop.web.errors import register_error_handlers
from backdrop.web.extension import init_app
from backdrop.web.json import OrjsonProvider
from backdrop.write import admin, records, transforms_admin


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings)
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    # Werkzeug's own guard for bodies read outside read_body (e.g. multipart).
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    # No CORS on the write app: OPTIONS answers 405 like any other unsupported
    # method, so every 2xx is a JSON body.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    init_app(app, settings)
    register_error_handlers(app)
    app.register_blueprint(status.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(transforms_admin.blueprint)  # transforms (SPEC 6/7)
    app.register_blueprint(records.blueprint)
    return app
