"""One JSON error shape for every failure: ``{"status": "error", "message": …}``.

Registered on the app (not a blueprint) so unknown URLs and wrong methods are
covered too. Unexpected exceptions are logged with their traceback and answer
a plain 500 message: nothing internal reaches the client. A 5xx body names
the request id, so whoever reports it points the operator at its log lines.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from backdrop import metrics
from backdrop.errors import BackdropError, StorageUnavailable
from backdrop.logging import request_id
from backdrop.web.extension import services

log = logging.getLogger(__name__)


def error_response(status: int, body: dict, headers: dict | None = None) -> Response:
    if status >= 500 and request_id.get() is not None:
        body = {**body, "request_id": request_id.get()}
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(BackdropError)
    def backdrop_error(error: BackdropError) -> Response:
        if error.status >= 500:
            log.warning("%s: %s", type(error).__name__, error.message)
        if isinstance(error, StorageUnavailable):
            engine = services().settings.database_url.partition(":")[0].partition("+")[0]
            metrics.DATABASE_ERRORS.labels(engine).inc()
        return error_response(error.status, error.body(), error.headers)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        body = {"status": "error", "message": error.description or error.name}
        return error_response(error.code or 500, body, headers)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response:
        log.exception("Unhandled error")
        return error_response(500, {"status": "error", "message": "Internal error"})
