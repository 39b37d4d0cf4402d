"""The admin app (port 3040): the web UI (SPEC 10).

Server-rendered pages over the same services as the read and write apps
(it never calls them over HTTP): data sets, their records, the query
explorer, uploads. Everything it serves comes from the package: templates in
``templates/``, one stylesheet and a little plain JavaScript in ``static/``,
and the vendored chart library in ``static/vendor/``.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from backdrop.admin import auth, display, errors, security
from backdrop.admin.pages import BLUEPRINTS
from backdrop.settings import Settings
from backdrop.transformers.dispatch import make_dispatcher
from backdrop.web.app import base_app

assets = Blueprint("assets", __name__, static_folder="static", static_url_path="/static")


def create_app(settings: Settings | None = None) -> Flask:
    app = base_app(__name__, settings, make_dispatcher)
    app.config["SESSION_COOKIE_NAME"] = "backdrop_session"
    security.init_app(app)
    errors.init_app(app)
    display.init_app(app)
    app.before_request(auth.gate)
    app.register_blueprint(assets)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
