"""``GET /`` on the read and write apps: a small JSON index, so a person who
opens an app's address learns what it is and where to go next."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from backdrop import __version__
from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation

ADMIN_PORT = 3040  # the admin app's default port (SPEC 10)


def admin_url() -> str:
    """The configured admin UI URL, or the admin app's default port on this host."""
    configured = services().settings.admin_url
    if configured:
        return configured
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    return f"{request.scheme}://{host}:{ADMIN_PORT}/"


def blueprint_for(app_name: str, links: dict[str, str]) -> Blueprint:
    """The index of the ``app_name`` app, listing ``links`` after the common ones."""
    blueprint = Blueprint("index", __name__)

    @blueprint.get("/")
    @operation(
        "What this app is, and links to its docs, status and data",
        tag="status",
        responses={200: Success("the index", "Index")},
    )
    def index():
        response = jsonify(
            {
                "name": f"Backdrop {app_name} API",
                "version": __version__,
                "links": {
                    "docs": "/docs",
                    "status": "/_status",
                    **links,
                    "admin": admin_url(),
                },
            }
        )
        response.headers["Cache-Control"] = "no-cache"
        return response

    return blueprint
