"""Upload filters (SPEC 8): named steps that reshape a file's sheets first.

A filter takes the file's sheets (``Sheet``: a name and its rows of raw
cells, each with its file row number) and returns sheets. They are found by
name in the entry-point group ``backdrop.upload_filters``, where the
built-ins below register like any installed package's; import paths are
never accepted. The dotted names existing Backdrop configs carry
(``backdrop.core.upload.filters.first_sheet_filter``) are aliases of the
built-in of that name. Filters apply to CSV and Excel files, not to JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from backdrop.core.files.errors import BadFile
from backdrop.core.files.tabular import RawRow, Sheet

GROUP = "backdrop.upload_filters"
LEGACY_PREFIX = "backdrop.core.upload.filters."
UploadFilter = Callable[[Iterator[Sheet]], Iterator[Sheet]]


def first_sheet(sheets: Iterator[Sheet]) -> Iterator[Sheet]:
    """Only the workbook's first sheet (a CSV file has only one)."""
    for sheet in sheets:
        yield sheet
        return


def _each_row(
    sheets: Iterator[Sheet], change: Callable[[list[Any]], list[Any] | None]
) -> Iterator[Sheet]:
    def rows(source: Iterable[RawRow]) -> Iterator[RawRow]:
        for number, cells in source:
            changed = change(cells)
            if changed is not None:
                yield number, changed

    for sheet in sheets:
        yield Sheet(sheet.name, rows(sheet.rows))


def _strip(cells: list[Any]) -> list[Any]:
    return [cell.strip() if isinstance(cell, str) else cell for cell in cells]


def strip_whitespace(sheets: Iterator[Sheet]) -> Iterator[Sheet]:
    """Leading and trailing whitespace removed from every text cell."""
    return _each_row(sheets, _strip)


def skip_blank_rows(sheets: Iterator[Sheet]) -> Iterator[Sheet]:
    """Rows whose cells are all empty or whitespace dropped (plain empty rows
    are always skipped; this also drops rows of spaces)."""

    def keep(cells: list[Any]) -> list[Any] | None:
        blank = all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)
        return None if blank else cells

    return _each_row(sheets, keep)


@cache
def registered() -> dict[str, UploadFilter]:
    """Every installed filter by name."""
    return {point.name: point.load() for point in entry_points(group=GROUP)}


def canonical(name: str) -> str:
    """A filter name with the legacy dotted alias resolved."""
    if name.startswith(LEGACY_PREFIX):
        return name.removeprefix(LEGACY_PREFIX).removesuffix("_filter")
    return name


def resolve(names: Iterable[str]) -> list[UploadFilter]:
    """The filters named (in order); 400 naming the ones that are not installed."""
    available = registered()
    filters, unknown = [], []
    for name in names:
        found = available.get(canonical(name))
        if found is None:
            unknown.append(name)
        else:
            filters.append(found)
    if unknown:
        raise BadFile(
            "unknown upload filter: " + ", ".join(unknown),
            detail="installed filters: " + ", ".join(sorted(available)),
        )
    return filters
