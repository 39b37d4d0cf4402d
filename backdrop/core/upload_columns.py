"""The columns of an upload, as a dry run shows them (SPEC 8): name, type, empties.

A column's type is the one kind of value it holds (``number``, ``string``,
``date``, ``boolean``), ``mixed`` for several, ``empty`` for none; ``date``
is text in ISO 8601 form (``2024-01-31`` or with a time), as timestamps are
written. New and missing columns compare the upload with the fields of the
data set's most recently written records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from backdrop.core.query import Sort, Where
from backdrop.core.storage.base import StorageEngine

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
_RECENT = 200  # records whose fields stand for the data set's
_NOT_COMPARED = frozenset(("_id", "_updated_at"))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "date" if _ISO_DATE.fullmatch(value) else "string"
    return "other"


@dataclass
class Columns:
    """Running counts over an upload's records, in first-seen column order."""

    kinds: dict[str, set[str]] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)
    rows: int = 0

    def add(self, record: dict[str, Any]) -> None:
        self.rows += 1
        for name, value in record.items():
            kinds = self.kinds.setdefault(name, set())
            if value is None or value == "":
                self.filled.setdefault(name, 0)
                continue
            self.filled[name] = self.filled.get(name, 0) + 1
            if len(kinds) < 2:
                kinds.add(_kind(value))

    def described(self) -> list[dict[str, Any]]:
        """Each column's name, type and count of empty (or absent) values."""
        result = []
        for name, kinds in self.kinds.items():
            kind = "empty" if not kinds else next(iter(kinds)) if len(kinds) == 1 else "mixed"
            result.append({"name": name, "type": kind, "empty": self.rows - self.filled[name]})
        return result


def existing_fields(engine: StorageEngine, data_set: str) -> set[str]:
    """The fields of the data set's most recently written records."""
    recent = engine.records.find(data_set, Where(), Sort("_updated_at", descending=True), _RECENT)
    return {key for record in recent for key in record} - _NOT_COMPARED


def compared(columns: Columns, existing: set[str]) -> dict[str, list[str]]:
    """``new_columns`` (in the upload only) and ``missing_columns`` (in the data set only)."""
    uploaded = [name for name in columns.kinds if name not in _NOT_COMPARED]
    return {
        "new_columns": [name for name in uploaded if name not in existing],
        "missing_columns": sorted(existing - set(uploaded)),
    }
