"""Security of the web UI in one place: headers, the session cookie, CSRF.

- One Content-Security-Policy, a mapping of directive → sources starting from
  ``default-src 'none'``, serialised once and sent on every response: scripts
  and styles only from the app's own ``/static`` (no inline script), no
  framing. ``X-Frame-Options: DENY`` and ``nosniff`` go with it.
- The session is Flask's signed cookie (``HttpOnly``, ``SameSite=Lax``,
  ``Secure`` when the request came over HTTPS), signed with
  ``BACKDROP_SECRET_KEY`` or the key kept in the database, and good for 12
  hours after signing in.
- Every form carries a CSRF token kept in the session; an unsafe request
  without the matching token is refused with 400 before any view runs.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import Flask, Request, Response, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from backdrop.core import secret_key
from backdrop.errors import BadRequest
from backdrop.web.extension import services

POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'none'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "connect-src": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
    "base-uri": ("'none'",),
}
CONTENT_SECURITY_POLICY = "; ".join(f"{k} {' '.join(v)}" for k, v in POLICY.items())
SESSION_LIFETIME = timedelta(hours=12)  # then sign in again; the cookie's signature expires too
UNSAFE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
CSRF_FIELD = "csrf_token"
CSRF_MESSAGE = (
    "This form's security token is missing or out of date (the page may be old, or "
    "cookies are blocked). Go back, reload the page and send the form again."
)


class CSRFError(BadRequest):
    """A form arrived without the session's CSRF token."""


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, with the key loaded on first use (so the
    database is not touched before gunicorn forks) and ``Secure`` per request."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            backdrop = services()
            app.secret_key = backdrop.settings.secret_key or secret_key.load_or_create(
                backdrop.engine
            )
        return super().get_signing_serializer(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def csrf_token() -> str:
    """The session's CSRF token (created on first use), for a form's hidden field."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    token: str = session[CSRF_FIELD]
    return token


def check_csrf(req: Request) -> None:
    if req.method not in UNSAFE_METHODS:
        return
    sent = req.form.get(CSRF_FIELD, "")
    expected = session.get(CSRF_FIELD, "")
    if not (sent and expected and hmac.compare_digest(sent, expected)):
        raise CSRFError(CSRF_MESSAGE)


def add_headers(response: Response) -> Response:
    # A page with a policy of its own (Swagger UI's /docs) keeps it.
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        # Pages show configuration and data: never kept by shared caches or history.
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.after_request(add_headers)
