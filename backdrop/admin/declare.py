"""OpenAPI declarations of the web UI's pages (SPEC 14: every app documents
every route): each page answers HTML, or a redirect, with the statuses it can
send. ``page`` is ``backdrop.web.openapi.operation`` for HTML views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from backdrop.web.openapi import Success, operation

F = TypeVar("F", bound=Callable[..., Any])
TAG = "web UI"
HTML = {"type": "string"}
MEANINGS = {
    200: "the page",
    302: "a redirect: to sign in when signed out (with next=the page), or to the next page",
    400: "a page saying what was wrong in the form or query (also: a missing CSRF token)",
    401: "the sign-in page again: not the admin token",
    403: "sign-in is switched off (BACKDROP_ADMIN_TOKEN unset), or the dashboard is protected",
    404: "no such data set or dashboard",
    409: "the form again: that name or address is taken",
    413: "over a limit: the uploaded file (BACKDROP_MAX_UPLOAD_BYTES, rows, unzipped "
    "size), or the dashboard (BACKDROP_DASHBOARD_MAX_BYTES)",
    507: "the form again: the dashboard quota is full and nothing can be evicted",
}


def page(summary: str, *statuses: int, content_type: str = "text/html") -> Callable[[F], F]:
    """Declare an HTML page answering 200 (and the sign-in redirect, 302) plus
    ``statuses``."""
    responses: dict[int, Success | str] = {
        200: Success(MEANINGS[200], HTML, content_type),
        302: Success(MEANINGS[302]),
    }
    for status in statuses:
        responses[status] = Success(MEANINGS[status], HTML, "text/html")
    return operation(summary, tag=TAG, responses=responses)
