"""The admin app (port 3040): the web UI (SPEC 10).

Server-rendered pages over the same services as the read and write apps
(it never calls them over HTTP): data sets, their records, the query
explorer, uploads. Everything it serves comes from the package: templates in
``templates/``, one stylesheet and a little plain JavaScript in ``static/``,
and the vendored chart library in ``static/vendor/``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, send_from_directory

from backdrop.admin import auth, display, errors, security
from backdrop.admin.declare import page
from backdrop.admin.pages import BLUEPRINTS, NAVIGATION
from backdrop.settings import Settings
from backdrop.transformers.dispatch import make_dispatcher
from backdrop.transformers.rollup_tasks import make_builds
from backdrop.web.app import base_app

STATIC = Path(__file__).parent / "static"
MULTIPART_SLACK = 64 * 1024  # the form's other fields and part headers around the file
assets = Blueprint("assets", __name__)


@assets.get("/static/<path:filename>")
@page("The UI's stylesheet, scripts and the vendored chart library", 404, content_type="text/css")
def static(filename: str) -> Response:
    return send_from_directory(STATIC, filename, max_age=300)


def create_app(settings: Settings | None = None) -> Flask:
    app = base_app(__name__, settings, make_dispatcher, make_builds)
    app.config["SESSION_COOKIE_NAME"] = "backdrop_session"
    # Uploaded files are the largest bodies; werkzeug refuses more (413) before reading it.
    limit = app.extensions["backdrop"].settings.max_upload_bytes
    app.config["MAX_CONTENT_LENGTH"] = limit + MULTIPART_SLACK
    security.init_app(app)
    errors.init_app(app)
    display.init_app(app)
    app.jinja_env.globals["navigation"] = NAVIGATION
    app.before_request(auth.gate)
    app.register_blueprint(assets)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
