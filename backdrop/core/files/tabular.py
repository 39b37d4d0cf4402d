"""Rows of cells (CSV, Excel) to records: the header row names the keys.

Empty rows and rows whose first cell starts with ``#`` are skipped; the first
row left is the header. Header cells must be valid, distinct record keys. A
value under a column with no name, or past the last named column, is an error
naming its row and column; so is a CSV row with fewer values than the header
(usually a broken quote or delimiter). Excel rows may be shorter: their empty
trailing cells are simply not stored in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from backdrop.core.files.errors import BadFile, FileTooLarge
from backdrop.core.files.values import from_cell
from backdrop.core.names import KEY_RULE
from backdrop.core.records import key_kind

_GOOD_KINDS = ("plain", "id", "time")  # what ``key_kind`` answers for a usable key

RawRow = tuple[int, list[Any]]
"""A row as read from the file: its 1-based row number and its cells."""


@dataclass
class Sheet:
    """One table of a file: a CSV file is one sheet; a workbook has several."""

    name: str
    rows: Iterator[RawRow]


class Row(NamedTuple):
    """A record parsed from a file, with the file row it came from."""

    number: int
    record: dict[str, Any]


def _blank(cell: Any) -> bool:
    return cell is None or cell == ""


def _skipped(cells: list[Any]) -> bool:
    if all(_blank(cell) for cell in cells):
        return True
    first = cells[0] if cells else None
    return isinstance(first, str) and first.startswith("#")


def _header(number: int, cells: list[Any]) -> list[str]:
    names = ["" if _blank(cell) else str(cell).strip() for cell in cells]
    while names and not names[-1]:
        names.pop()
    seen: dict[str, int] = {}
    for index, name in enumerate(names, start=1):
        if not name:
            continue
        kind = key_kind(name)
        if kind not in _GOOD_KINDS:
            raise BadFile(f"header {kind}", row=number, column=index, detail=KEY_RULE)
        folded = name.lower()
        if folded in seen:
            raise BadFile(
                f'duplicate header "{name}" (also column {seen[folded]})',
                row=number,
                column=index,
                detail="every column needs its own name",
            )
        seen[folded] = index
    return names


def _record(number: int, cells: list[Any], names: list[str], strict: bool) -> dict[str, Any]:
    if strict and len(cells) < len(names):
        values = f"{len(cells)} value" + ("" if len(cells) == 1 else "s")
        raise BadFile(
            f"{values} but the header has {len(names)} columns",
            row=number,
            detail="a row with too few values usually means a broken quote or delimiter",
        )
    record: dict[str, Any] = {}
    for index, cell in enumerate(cells):
        value = from_cell(cell)
        name = names[index] if index < len(names) else ""
        if name:
            record[name] = value
        elif value is not None:
            where = "under a column with no header" if index < len(names) else "past the header"
            raise BadFile(f"a value {where}", row=number, column=index + 1)
    for name in names[len(cells) :]:
        if name:
            record[name] = None
    return record


def records(rows: Iterable[RawRow], *, max_rows: int | None, strict: bool) -> Iterator[Row]:
    """The records of a sheet's rows, header first. Raises ``BadFile`` for a
    file with no header or no data rows, ``FileTooLarge`` past ``max_rows``."""
    names: list[str] | None = None
    count = 0
    for number, cells in rows:
        if _skipped(cells):
            continue
        if names is None:
            names = _header(number, cells)
            if not names:
                raise BadFile("the header row has no column names", row=number)
            continue
        count += 1
        if max_rows is not None and count > max_rows:
            raise FileTooLarge(f"the file has more than {max_rows} rows", row=number)
        yield Row(number, _record(number, cells, names, strict))
    if names is None:
        raise BadFile("the file is empty: expected a header row, then one row per record")
    if count == 0:
        raise BadFile("the file has a header row but no data rows")
