"""Who may use the web UI: whoever signs in with the admin token.

A session remembers a fingerprint of the admin token it was opened with (an
HMAC under the session key, never the token), so changing
``BACKDROP_ADMIN_TOKEN`` signs every session out. Every page except sign-in,
the static files and ``/_status`` needs a signed-in session; anyone else is
sent to sign in, and back to the page afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import current_app, redirect, request, session, url_for
from werkzeug.wrappers import Response

from backdrop import audit
from backdrop.admin import security
from backdrop.web.extension import services
from backdrop.web.request_id import bind

ACTOR = "web UI (admin)"  # who the audit log says made a change from a page
# dashboards.show lets a published dashboard be seen signed out, and sends the rest to sign in.
OPEN_ENDPOINTS = frozenset(("auth.sign_in", "assets.static", "dashboards.show"))
# Shared with the other apps, open and answering JSON errors as there:
# status, metrics, the API document and its page.
API_BLUEPRINTS = frozenset(("status", "metrics", "docs"))
USER = "admin"


def _fingerprint(token: str) -> str:
    key = str(current_app.secret_key).encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()[:32]


def enabled() -> bool:
    return bool(services().settings.admin_token)


def signed_in() -> bool:
    token = services().settings.admin_token
    fingerprint = session.get("key")
    return bool(
        token
        and session.get("user") == USER
        and isinstance(fingerprint, str)
        and hmac.compare_digest(fingerprint, _fingerprint(token))
    )


def sign_in(token: str) -> bool:
    """Open a session if ``token`` is the admin token (compared in constant time)."""
    expected = services().settings.admin_token
    if not (expected and token and secrets.compare_digest(token.encode(), expected.encode())):
        return False
    session.clear()  # a fresh session (and CSRF token) after signing in
    session.permanent = True  # expires after security.SESSION_LIFETIME
    session["user"] = USER
    session["key"] = _fingerprint(expected)
    return True


def sign_out() -> None:
    session.clear()


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and "\\" not in target else None


def gate() -> Response | None:
    """Before every request: signed-out visitors go to sign in; forms need their
    CSRF token."""
    if request.endpoint in OPEN_ENDPOINTS or request.blueprint in API_BLUEPRINTS:
        security.check_csrf(request)
        return None
    if not signed_in():
        target = request.full_path if request.query_string else request.path
        next_page = target if request.method == "GET" else None
        return redirect(url_for("auth.sign_in", next=next_page))
    bind(audit.actor, ACTOR)
    if request.routing_exception is None:  # unknown pages and methods: 404/405 pages
        security.check_csrf(request)
    return None
