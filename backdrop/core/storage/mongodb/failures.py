"""pymongo's errors as Backdrop's: what a client can do about them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from pymongo.errors import (
    ConfigurationError,
    ConnectionFailure,
    DocumentTooLarge,
    OperationFailure,
    PyMongoError,
)

from backdrop.errors import BackdropError, BadRequest, StorageUnavailable

P = ParamSpec("P")
T = TypeVar("T")


class _HasConnection(Protocol):
    connection: Any


S = TypeVar("S", bound=_HasConnection)


# Server limits a query can hit: 16 MB per result document, 100 MB of memory
# per $group accumulator or sort stage.
TOO_LARGE_CODES = frozenset({10334, 146, 292, 16819})
TOO_LARGE_NAMES = frozenset(
    {"BSONObjectTooLarge", "ExceededMemoryLimit", "QueryExceededMemoryLimitNoDiskUseAllowed"}
)
TOO_LARGE = (
    "The result is too large for MongoDB (over 16 MB in one group, or over 100 MB of "
    "memory in one stage): narrow the query with filters or a shorter range, group by "
    "fewer values, or collect with count instead of set"
)


class UnsupportedServer(BackdropError):
    """The server is older than MongoDB 4.4: no retry will help."""

    status = 500
    default_message = (
        "The MongoDB server is older than 4.4, the oldest version Backdrop supports: "
        "upgrade the server"
    )


def _too_large(error: PyMongoError) -> bool:
    if isinstance(error, DocumentTooLarge):
        return True
    if not isinstance(error, OperationFailure):
        return False
    name = (error.details or {}).get("codeName")
    return error.code in TOO_LARGE_CODES or name in TOO_LARGE_NAMES


def translate(error: PyMongoError) -> Exception:
    """The Backdrop error for ``error``, or ``error`` itself if none fits."""
    if isinstance(error, ConfigurationError) and "wire version" in str(error):
        return UnsupportedServer()
    if error.timeout:  # the time limit, a write-concern timeout, server selection
        return StorageUnavailable(
            f"The database did not answer in time (MongoDB: {type(error).__name__}), "
            "please retry later"
        )
    if _too_large(error):
        return BadRequest(TOO_LARGE)
    if isinstance(error, ConnectionFailure):
        return StorageUnavailable(
            "The database is unavailable (no answer from MongoDB), please retry later"
        )
    if isinstance(error, ConfigurationError):  # e.g. a mongodb+srv:// name DNS cannot resolve
        return StorageUnavailable(
            f"The database is unavailable (MongoDB: {error}), please retry later"
        )
    return error


@contextmanager
def translated() -> Iterator[None]:
    """pymongo's errors raised inside as Backdrop's, where one fits."""
    try:
        yield
    except PyMongoError as error:
        backdrop_error = translate(error)
        if backdrop_error is error:
            raise
        raise backdrop_error from error


def available(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """Run a store method within its time limit, its pymongo errors translated;
    pymongo reconnects by itself."""

    @functools.wraps(method)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        with translated(), self.connection.limit():
            return method(self, *args, **kwargs)

    return wrapper
