"""Excel workbooks: ``.xlsx`` streamed (``xlsx``), legacy ``.xls`` read by xlrd.

An ``.xlsx`` is a zip: before anything is inflated, the sizes its members
declare are added up and checked against the unzipped limit (Python's zip
reader never inflates a member past its declared size), so a zip bomb is a
413, not a full disk or memory. Sheets are read row by row. A ``.xls`` is
read whole by xlrd (the format cannot stream; its sheets hold at most 65,536
rows), so the byte limit is what bounds it.

Malformed workbooks make these libraries raise almost anything (zip, XML,
struct, key and value errors); every such error is reported as a bad file.
"""

from __future__ import annotations

import zipfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import xlrd

from backdrop.core.files import xlsx
from backdrop.core.files.errors import BadFile, FileTooLarge
from backdrop.core.files.tabular import RawRow, Sheet
from backdrop.errors import BackdropError

_DAMAGED = "the file is not a readable Excel workbook"


@contextmanager
def _reading(kind: str, row: list[int] | None = None) -> Iterator[None]:
    try:
        yield
    except BackdropError:
        raise
    except Exception as error:  # noqa: BLE001 -- see the module docstring
        where = row[0] + 1 if row else None
        raise BadFile(
            f"{_DAMAGED} ({kind}: {type(error).__name__})",
            row=where,
            detail="it may be truncated or damaged; save it again from Excel and retry",
        ) from None


def check_zip(stream: BinaryIO, max_unzipped: int | None) -> None:
    """Refuse an ``.xlsx`` that is not a workbook or would inflate past the limit."""
    with _reading("xlsx"):
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise BadFile(
            "the file is a zip archive but not an Excel workbook (no xl/workbook.xml)",
            detail="upload .xlsx files saved by Excel, LibreOffice or another spreadsheet",
        )
    total = sum(member.file_size for member in members)
    if max_unzipped is not None and total > max_unzipped:
        raise FileTooLarge(
            f"the workbook unzips to {total} bytes, over the limit of {max_unzipped} bytes"
        )
    stream.seek(0)


def _xlsx_rows(rows: Iterator[RawRow]) -> Iterator[RawRow]:
    done = [0]
    with _reading("xlsx", done):
        for number, cells in rows:
            done[0] = number
            yield number, cells


def xlsx_sheets(stream: BinaryIO, max_unzipped: int | None) -> Generator[Sheet, None, None]:
    """The sheets of an ``.xlsx``, each read lazily (``backdrop.core.files.xlsx``)."""
    check_zip(stream, max_unzipped)
    with _reading("xlsx"):
        archive = zipfile.ZipFile(stream)
    try:
        with _reading("xlsx"):
            found = list(xlsx.sheets(archive))
        for sheet in found:
            yield Sheet(sheet.name, _xlsx_rows(sheet.rows))
    finally:
        archive.close()


def _xls_cell(cell: Any, datemode: int) -> Any:
    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate_as_datetime(cell.value, datemode)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    return cell.value


def _xls_rows(book: Any, index: int) -> Iterator[RawRow]:
    done = [0]
    with _reading("xls", done):
        sheet = book.sheet_by_index(index)
        for number in range(1, sheet.nrows + 1):
            done[0] = number
            yield number, [_xls_cell(cell, book.datemode) for cell in sheet.row(number - 1)]


def xls_sheets(stream: BinaryIO) -> Generator[Sheet, None, None]:
    """The sheets of a legacy ``.xls`` workbook."""
    with _reading("xls"):
        book = xlrd.open_workbook(file_contents=stream.read(), on_demand=True)
    try:
        for index, name in enumerate(book.sheet_names()):
            yield Sheet(name, _xls_rows(book, index))
    finally:
        book.release_resources()
