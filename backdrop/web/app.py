"""The Flask app every factory starts from: settings, logging, request ids,
metrics, JSON, services, error handlers, ``/_status``, ``/metrics``,
``/openapi.json`` and ``/docs``."""

from __future__ import annotations

import sys

from flask import Flask

from backdrop.logging import configure_logging
from backdrop.settings import Settings
from backdrop.web import docs, metrics, request_id, security_headers, status
from backdrop.web.errors import register_error_handlers
from backdrop.web.extension import BuildsFactory, DispatcherFactory, init_app
from backdrop.web.json import OrjsonProvider


def base_app(
    import_name: str,
    settings: Settings | None,
    dispatcher_factory: DispatcherFactory | None = None,
    builds_factory: BuildsFactory | None = None,
    **config: object,
) -> Flask:
    """A Flask app wired to ``settings`` (or the environment's); apps that write
    pass a ``dispatcher_factory`` and a ``builds_factory`` (rollup builds).
    ``config`` is applied before any route exists (Flask reads some keys per
    route)."""
    settings = settings or Settings.from_env()
    configure_logging(settings)
    app = Flask(import_name, static_folder=None)
    app.config.update(config)
    app.json = OrjsonProvider(app)
    request_id.init_app(app)  # first, so every other hook's log lines carry the id
    security_headers.init_app(app)  # registered early: runs after every other hook
    app_name = import_name.rpartition(".")[2]
    metrics.init_app(app, app_name)
    docs.init_app(app, f"Backdrop {app_name} API", sys.modules[import_name].__doc__ or "")
    init_app(app, settings, dispatcher_factory, builds_factory)
    register_error_handlers(app)
    app.register_blueprint(status.blueprint)
    return app
