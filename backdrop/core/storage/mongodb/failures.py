"""pymongo's errors as Backdrop's: what a client can do about them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from pymongo.errors import ConfigurationError, ConnectionFailure, PyMongoError

from backdrop.errors import StorageUnavailable

P = ParamSpec("P")
T = TypeVar("T")


class _HasConnection(Protocol):
    connection: Any


S = TypeVar("S", bound=_HasConnection)


def translate(error: PyMongoError) -> Exception:
    """The Backdrop error for ``error``, or ``error`` itself if none fits."""
    if isinstance(error, ConnectionFailure):
        return StorageUnavailable(
            "The database is unavailable (no answer from MongoDB), please retry later"
        )
    if isinstance(error, ConfigurationError):  # e.g. a mongodb+srv:// name DNS cannot resolve
        return StorageUnavailable(
            f"The database is unavailable (MongoDB: {error}), please retry later"
        )
    return error


def available(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """Run a store method, its pymongo errors translated; pymongo reconnects by itself."""

    @functools.wraps(method)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except PyMongoError as error:
            translated = translate(error)
            if translated is error:
                raise
            raise translated from error

    return wrapper
