"""Errors of the web UI as pages in its own style, never a stack trace.

Registered on the app after the JSON handlers of ``backdrop.web.errors``,
which they replace for this app: a person gets a page saying what went wrong
and what to do, with the same status the APIs would answer. The routes the
admin app shares with the APIs (``/_status``, ``/metrics``, ``/openapi.json``,
``/docs``) and the upload form's script get the APIs' JSON error body instead.
"""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from backdrop.admin.auth import API_BLUEPRINTS
from backdrop.errors import BackdropError
from backdrop.web.errors import error_response
from backdrop.web.extension import services

log = logging.getLogger(__name__)

TITLES = {
    400: "That request could not be used",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    500: "Something went wrong",
    503: "The database is unavailable",
}


SCRIPTED_HEADER = "X-Backdrop-Upload"  # sent by the upload form's script, which reads JSON


def wants_json() -> bool:
    return request.blueprint in API_BLUEPRINTS or request.headers.get(SCRIPTED_HEADER) == "1"


def error_page(status: int, message: str, detail: str | None = None) -> tuple[str, int]:
    title = TITLES.get(status, "Error")
    return render_template(
        "error.html", status=status, title=title, message=message, detail=detail
    ), status


def init_app(app: Flask) -> None:
    @app.errorhandler(BackdropError)
    def backdrop_error(error: BackdropError):
        if error.status >= 500:
            log.warning("%s: %s", type(error).__name__, error.message)
        if wants_json():
            return error_response(error.status, error.body(), error.headers)
        return error_page(error.status, error.message, error.detail)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        message = error.description or error.name
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        if status == 413:  # werkzeug's MAX_CONTENT_LENGTH guard, before a view runs
            limit = services().settings.max_upload_bytes
            message = f"The file is over the upload limit of {limit:,} bytes"
        if wants_json():
            return error_response(status, {"status": "error", "message": message}, headers)
        if status == 404:
            message = (
                "There is no page at this address. Check the link, or start from the "
                "list of data sets."
            )
        page, _ = error_page(status, message)
        return page, status, headers

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("Unhandled error")
        message = "The server met an unexpected error; it has been logged."
        if wants_json():
            return error_response(500, {"status": "error", "message": message})
        return error_page(500, message)
