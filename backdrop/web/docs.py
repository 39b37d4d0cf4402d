"""``GET /openapi.json`` and ``GET /docs`` (Swagger UI) on every app (SPEC 14).

Swagger UI is vendored under ``static/swagger-ui/`` with its licence and
served from here: nothing comes from a CDN, and the page has no inline script
or style, so it works under a strict Content-Security-Policy.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, jsonify, send_from_directory

from backdrop.web import openapi
from backdrop.web.openapi import Success, operation

ASSETS = Path(__file__).parent / "static" / "swagger-ui"
ASSET_TYPES = ("text/css", "image/png", "text/plain", "text/markdown", "application/octet-stream")
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body data-openapi="/openapi.json">
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
# Swagger UI sets element styles and shows images from data: URLs.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)

blueprint = Blueprint("docs", __name__)


@blueprint.get("/openapi.json")
@operation(
    "This app's OpenAPI 3.1 document",
    tag="documentation",
    responses={200: Success("the document", {"type": "object"})},
)
def openapi_document() -> Response:
    settings = current_app.extensions["backdrop_docs"]
    if "document" not in settings:
        settings["document"] = openapi.document(
            current_app, settings["title"], settings["description"]
        )
    response = jsonify(settings["document"])
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/docs")
@operation(
    "Interactive documentation (Swagger UI) of this app",
    tag="documentation",
    responses={200: Success("an HTML page", {"type": "string"}, "text/html")},
)
def docs_page() -> Response:
    title = current_app.extensions["backdrop_docs"]["title"]
    response = Response(PAGE.format(title=title), mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    return response


@blueprint.get("/docs/<path:filename>")
@operation(
    "A file of the documentation page (Swagger UI's script, style, icon)",
    tag="documentation",
    responses={
        200: Success(
            "the file",
            {"type": "string"},
            "text/javascript",
            also={kind: {"type": "string"} for kind in ASSET_TYPES},
        ),
        404: "NotFound",
    },
)
def docs_asset(filename: str) -> Response:
    return send_from_directory(ASSETS, filename, max_age=3600)


def init_app(app: Flask, title: str, description: str) -> None:
    app.extensions["backdrop_docs"] = {"title": title, "description": description}
    app.register_blueprint(blueprint)
