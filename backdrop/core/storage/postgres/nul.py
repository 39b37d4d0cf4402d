"""PostgreSQL text and JSONB cannot hold NUL characters.

Text with one can never be stored, so as a name or a filter it names nothing
and matches nothing, and as a value it is refused with a 400 naming it.
"""

from __future__ import annotations

from typing import Any

from backdrop.core import messages
from backdrop.core.storage.base import Record

REASON = "it contains a NUL character"


def storable(*texts: str) -> bool:
    return not any("\x00" in text for text in texts)


def record_problems(records: list[Record]) -> list[str]:
    """One message per key or text value of the batch PostgreSQL cannot store."""
    return [
        messages.unstorable(f"record {index}", repr(key) if not storable(key) else key, REASON)
        for index, record in enumerate(records)
        for key, value in record.items()
        if not storable(key) or (isinstance(value, str) and not storable(value))
    ]


def unstorable_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first NUL in a JSON value (``""`` for the value
    itself), or None if it has none."""
    if isinstance(value, str):
        return None if storable(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if not storable(str(key)):
                return repr(inner)
            found = unstorable_path(item, inner)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
