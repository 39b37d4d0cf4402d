"""Transform types by name: the ``backdrop.transforms`` entry-point group.

Built-ins register through the same group as third-party packages, so the
API can only ever name an installed, registered function, never an import
path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import Any

GROUP = "backdrop.transforms"

Transform = Callable[[list[dict[str, Any]], dict[str, Any]], list[dict[str, Any]]]


class UnknownTransform(LookupError):
    """No transform is registered under that name."""


@cache
def _entry_points() -> dict[str, Any]:
    return {point.name: point for point in entry_points(group=GROUP)}


def names() -> list[str]:
    """Every registered transform type, sorted."""
    return sorted(_entry_points())


def get(name: str) -> Transform:
    """The transform function registered as ``name``."""
    point = _entry_points().get(name)
    if point is None:
        raise UnknownTransform(
            f"Unknown transform type {name!r}; registered types: {', '.join(names())}"
        )
    return point.load()
