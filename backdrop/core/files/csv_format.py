"""CSV: UTF-8 with or without a BOM; ``,``, ``;`` or tab, sniffed from the start.

Read as a stream: only the sniffing sample and the current row are in memory.
Binary content (a NUL byte, or bytes that are not UTF-8) is refused with the
row where it was found.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Generator, Iterator
from typing import Any

from backdrop.core.files.errors import BadFile
from backdrop.core.files.tabular import RawRow, Sheet

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t"
_NOT_TEXT = "the file is not CSV text: it holds binary data"
_TEXT_RULE = "CSV files must be UTF-8 text (an optional BOM is fine)"


def _sniff(sample: str) -> str:
    """The delimiter that splits the sample's first lines into the same number
    of fields as the header, most often (``,`` when none splits it)."""
    lines = [line for line in sample.splitlines()[:50] if line.strip() and line[0] != "#"]
    if len(lines) > 1:
        lines = lines[:-1]  # the sample may end mid-line
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        counts = [len(cells) for cells in csv.reader(lines, delimiter=delimiter)]
        if not counts or counts[0] < 2:
            continue
        score = sum(1 for count in counts if count == counts[0]) * 1000 + counts[0]
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample(raw: io.BufferedReader[Any]) -> str:
    head = raw.peek(SAMPLE_BYTES)[:SAMPLE_BYTES]
    if b"\x00" in head:
        raise BadFile(_NOT_TEXT, detail=_TEXT_RULE)
    return codecs.getincrementaldecoder("utf-8-sig")(errors="replace").decode(head)


def _check_text(number: int, cells: list[str]) -> None:
    """Bytes that were not UTF-8 arrive as lone surrogates: name their cell."""
    if "".join(cells).isascii():
        return
    for column, cell in enumerate(cells, start=1):
        try:
            cell.encode("utf-8")
        except UnicodeEncodeError:
            raise BadFile(
                f"{_NOT_TEXT} (not UTF-8)", row=number, column=column, detail=_TEXT_RULE
            ) from None


def _rows(text: io.TextIOWrapper, delimiter: str) -> Iterator[RawRow]:
    reader = csv.reader(text, delimiter=delimiter, strict=False)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            message = str(error)
            if "NUL" in message or "null byte" in message:
                raise BadFile(_NOT_TEXT, row=number + 1, detail=_TEXT_RULE) from None
            raise BadFile(f"unreadable CSV: {message}", row=number + 1) from None
        number += 1
        _check_text(number, cells)
        yield number, cells


def sheets(raw: io.BufferedReader[Any]) -> Generator[Sheet, None, None]:
    """The one sheet of a CSV file (``raw`` buffered, to sniff with ``peek``)."""
    delimiter = _sniff(_sample(raw))
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
    yield Sheet("csv", _rows(text, delimiter))
