"""Files made in the test, never committed: workbooks and broken ones."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from typing import Any

import openpyxl
import pytest
import xlwt

from backdrop.core.files import ParseOptions, parse


def xlsx_bytes(sheets: dict[str, Iterable[Iterable[Any]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xls_bytes(sheets: dict[str, Iterable[Iterable[Any]]]) -> bytes:
    book = xlwt.Workbook()
    dates = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM:SS")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if hasattr(value, "year"):
                    sheet.write(r, c, value, dates)
                else:
                    sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb_xlsx(inflated: int) -> bytes:
    """A real workbook plus one member of ``inflated`` zero bytes (tiny zipped)."""
    out = io.BytesIO(xlsx_bytes({"s": [["aa"], [1]]}))
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/media/bomb.bin", "w") as member:
            block = bytes(1 << 20)
            for _ in range(inflated >> 20):
                member.write(block)
    return out.getvalue()


def records(data: bytes, filename: str | None = None, **options: Any) -> list[dict[str, Any]]:
    return [row.record for row in parse(io.BytesIO(data), filename, None, ParseOptions(**options))]


@pytest.fixture
def parsed():
    return records
