"""Bearer tokens: a data set's write token, and the admin token (SPEC 4, 6).

Comparisons are constant-time and tokens are never logged.
"""

from __future__ import annotations

import hmac

from flask import request

from backdrop import audit
from backdrop.core.data_sets import DataSetConfig
from backdrop.errors import Forbidden, Unauthorized
from backdrop.web.extension import services
from backdrop.web.request_id import bind


def bearer_token() -> str:
    """The token of ``Authorization: Bearer <token>``, or 401 if absent or malformed."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized()
    return token


def require_token(config: DataSetConfig) -> None:
    """401 unless the request carries ``config``'s write token."""
    token = bearer_token()
    if not config.token_matches(token):
        raise Unauthorized(f"Unauthorized: Invalid bearer token '{token}' for '{config.name}'")
    bind(audit.actor, "data-set token")


def require_admin() -> None:
    """403 while BACKDROP_ADMIN_TOKEN is unset, 401 unless the request carries it.

    Usable as a view guard or as ``blueprint.before_request(require_admin)``.
    """
    admin_token = services().settings.admin_token
    if not admin_token:
        raise Forbidden("The admin API is disabled: set BACKDROP_ADMIN_TOKEN to enable it")
    token = bearer_token()
    if not hmac.compare_digest(token.encode(), admin_token.encode()):
        raise Unauthorized("Unauthorized: invalid admin token")
    bind(audit.actor, "admin")
