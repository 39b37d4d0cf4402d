"""JSON (one object, or an array of objects) and JSONL (one object a line).

Both stream: a JSON array is read element by element with ijson, JSONL line
by line, so memory holds one record at a time. Their "row" is the record's
position (JSON, from 1) or its line number (JSONL). Values are kept as given;
nested ones are refused later by record validation, as in a JSON write.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson
import orjson

from backdrop.core.files.errors import BadFile, FileTooLarge
from backdrop.core.files.tabular import Row

_OBJECT = "each record must be a JSON object"


def _counted(max_rows: int | None, number: int) -> None:
    if max_rows is not None and number > max_rows:
        raise FileTooLarge(f"the file has more than {max_rows} records", row=number)


def _checked(number: int, item: Any, max_rows: int | None) -> Row:
    _counted(max_rows, number)
    if not isinstance(item, dict):
        raise BadFile(_OBJECT, row=number)
    return Row(number, item)


def json_rows(raw: io.BufferedReader[Any], max_rows: int | None) -> Iterator[Row]:
    """The records of a JSON document: an array of objects, or one object
    (``raw`` buffered, to see which with ``peek``)."""
    head = raw.peek(64).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    prefix = "item" if head == b"[" else ""
    number = 0
    try:
        for number, item in enumerate(ijson.items(raw, prefix, use_float=True), start=1):
            yield _checked(number, item, max_rows)
    except ijson.JSONError as error:
        problem = str(error).strip().splitlines()[0]
        raise BadFile(f"unparseable JSON: {problem}", row=number + 1) from None
    if number == 0:
        raise BadFile("the file holds no records: expected a JSON array of objects")


def jsonl_rows(stream: BinaryIO, max_rows: int | None) -> Iterator[Row]:
    """The records of a JSON Lines file; blank lines are skipped."""
    count = 0
    for number, line in enumerate(stream, start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise BadFile(f"unparseable JSON: {error}", row=number) from None
        count += 1
        _counted(max_rows, count)
        if not isinstance(item, dict):
            raise BadFile(_OBJECT, row=number)
        yield Row(number, item)
    if count == 0:
        raise BadFile("the file holds no records: expected one JSON object a line")
