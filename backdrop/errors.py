"""Errors as exceptions: each carries its HTTP status and a client-safe message.

No Flask import here: the core raises these, and ``backdrop.web.errors``
renders every one of them (and every HTTPException) as
``{"status": "error", "message": …}``. The ``message`` is the one clients have
always matched on (SPEC 4, 5.2); an optional ``detail`` adds what exactly was
wrong and what is allowed, for the person reading it.
"""

from __future__ import annotations


class BackdropError(Exception):
    status = 500
    default_message = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        detail: str | None = None,
    ):
        self.message = message or self.default_message
        self.headers = headers or {}
        self.detail = detail
        super().__init__(self.message)

    def body(self) -> dict:
        return self._with_detail({"status": "error", "message": self.message})

    def _with_detail(self, body: dict) -> dict:
        if self.detail:
            body["detail"] = self.detail
        return body

    def describe(self) -> str:
        """The message and, when set, the detail: one line for a terminal."""
        return f"{self.message} ({self.detail})" if self.detail else self.message


class BadRequest(BackdropError):
    status = 400
    default_message = "Bad request"


class InvalidQuery(BadRequest):
    """A read query string that breaks a rule of SPEC 5.2."""


class InvalidRecords(BadRequest):
    """One or more records of a batch failed validation; nothing was stored."""

    def __init__(self, messages: list[str], detail: str | None = None):
        self.messages = messages
        super().__init__("; ".join(messages), detail=detail)

    def body(self) -> dict:
        return self._with_detail({"status": "error", "messages": self.messages})


class Unauthorized(BackdropError):
    status = 401
    default_message = "Expected header of form: Authorization: Bearer <token>"

    def __init__(self, message: str | None = None):
        super().__init__(message, headers={"WWW-Authenticate": "bearer"})


class Forbidden(BackdropError):
    status = 403
    default_message = "Forbidden"


class NotFound(BackdropError):
    status = 404
    default_message = "Not found"


class Conflict(BackdropError):
    status = 409
    default_message = "Conflict"


class PayloadTooLarge(BackdropError):
    status = 413
    default_message = "Request body is too large"


class StorageUnavailable(BackdropError):
    """The database cannot be reached; clients may retry."""

    status = 503
    default_message = "The database is unavailable, please retry later"


class VersionConflict(Conflict):
    """A document changed (or appeared) since the version a writer expected."""

    default_message = "The document was changed by another request; reload it and retry"
