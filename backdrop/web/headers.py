"""HTTP headers of read responses (SPEC 5.4): CORS, caching, ETags."""

from __future__ import annotations

from flask import Request, Response

from backdrop.core.data_sets import DataSetConfig

PREFLIGHT_MAX_AGE = "86400"
PREFLIGHT_ALLOW_HEADERS = "cache-control, govuk-request-id, request-id"
ALLOWED_METHODS = "GET, HEAD, OPTIONS"


def add_cors(response: Response, preflight: bool = False) -> Response:
    """Any origin may read; a preflight also learns what it may send, for a day."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "X-Request-Id"  # scripts may quote it
    if preflight:
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        response.headers["Access-Control-Allow-Headers"] = PREFLIGHT_ALLOW_HEADERS
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    return response


def cache_control(config: DataSetConfig) -> str:
    """Published data may be cached (briefly if realtime); unpublished never."""
    if not config.published:
        return "no-cache"
    return f"max-age={config.cache_seconds}, must-revalidate"


def conditional(response: Response, request: Request) -> Response:
    """Add a strong ETag of the body; a matching ``If-None-Match`` turns the
    response into a bodiless 304."""
    response.add_etag()
    response.make_conditional(request)  # changes the response in place
    return response
