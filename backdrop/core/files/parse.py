"""``parse``: any supported file to an iterator of records (see the package docstring)."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from backdrop.core.files import csv_format, excel, json_format, tabular
from backdrop.core.files.detect import decide
from backdrop.core.files.errors import BadFile
from backdrop.core.files.filters import resolve
from backdrop.core.files.limits import Bounded, size_of, too_large
from backdrop.core.files.tabular import Row, Sheet

MIB = 1024 * 1024


@dataclass(frozen=True)
class ParseOptions:
    """How to read a file. The limits default to SPEC 8's; None lifts one."""

    sheet: str | None = None
    filters: tuple[str, ...] = ()
    max_rows: int | None = 1_000_000
    max_bytes: int | None = 50 * MIB
    max_unzipped_bytes: int | None = 1024 * MIB


def _pick(sheets: Iterator[Sheet], name: str | None) -> Sheet:
    seen = []
    for sheet in sheets:
        if name is None or sheet.name == name:
            return sheet
        seen.append(sheet.name)
    if name is None:
        raise BadFile("the workbook has no sheets")
    raise BadFile(f'the workbook has no sheet named "{name}"', detail="sheets: " + ", ".join(seen))


def _seekable(buffered: io.BufferedReader[Any], stream: BinaryIO, start: int | None) -> BinaryIO:
    """The file from its start in a seekable stream (spooled to disk if it was not)."""
    if start is not None:
        stream.seek(start)
        return stream
    spool = tempfile.TemporaryFile()  # noqa: SIM115 -- closed by the caller's parse
    shutil.copyfileobj(buffered, spool)
    spool.seek(0)
    return cast(BinaryIO, spool)


def _sheets(
    fmt: str, buffered: io.BufferedReader[Any], stream: BinaryIO, options: ParseOptions
) -> Generator[Sheet, None, None]:
    if fmt == "xlsx":
        return excel.xlsx_sheets(stream, options.max_unzipped_bytes)
    if fmt == "xls":
        return excel.xls_sheets(stream)
    return csv_format.sheets(buffered)


def parse(
    stream: BinaryIO,
    filename: str | None = None,
    format: str | None = None,  # noqa: A002 -- the name callers know
    options: ParseOptions | None = None,
) -> Iterator[Row]:
    """The file's records, in file order, as ``Row(number, record)``.

    Raises ``BadFile`` (400) or ``FileTooLarge`` (413), lazily: a bad row
    deep in the file is found when iteration reaches it.
    """
    options = options or ParseOptions()
    filters = resolve(options.filters)
    size = size_of(stream)
    if options.max_bytes is not None and size is not None and size > options.max_bytes:
        raise too_large(options.max_bytes)
    start = stream.tell() if size is not None else None
    buffered = io.BufferedReader(Bounded(stream, options.max_bytes), 1 << 16)
    fmt = decide(buffered.peek(csv_format.SAMPLE_BYTES), filename, format)
    if fmt == "json":
        yield from json_format.json_rows(buffered, options.max_rows)
        return
    if fmt == "jsonl":
        yield from json_format.jsonl_rows(cast(BinaryIO, buffered), options.max_rows)
        return
    source = stream if fmt == "csv" else _seekable(buffered, stream, start)
    base = _sheets(fmt, buffered, source, options)
    try:
        sheets: Iterator[Sheet] = base
        for upload_filter in filters:
            sheets = upload_filter(sheets)
        sheet = _pick(sheets, options.sheet)
        yield from tabular.records(sheet.rows, max_rows=options.max_rows, strict=fmt == "csv")
    finally:
        base.close()
        if source is not stream:
            source.close()
