"""Errors as exceptions: each carries its HTTP status and a client-safe message.

No Flask import here: the core raises these, and ``backdrop.web.errors``
renders every one of them (and every HTTPException) as
``{"status": "error", "message": …}``.
"""

from __future__ import annotations


class BackdropError(Exception):
    status = 500
    default_message = "Internal error"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None):
        self.message = message or self.default_message
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self) -> dict:
        return {"status": "error", "message": self.message}


class BadRequest(BackdropError):
    status = 400
    default_message = "Bad request"


class InvalidQuery(BadRequest):
    """A read query string that breaks a rule of SPEC 5.2."""


class InvalidRecords(BadRequest):
    """One or more records of a batch failed validation; nothing was stored."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("; ".join(messages))

    def body(self) -> dict:
        return {"status": "error", "messages": self.messages}


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
