"""Which format a file is in, judged by its content; its name only has to agree.

A file named ``.xlsx`` that holds CSV, or a ``.csv`` that holds binary data,
is refused with a message saying what the content is, so a mislabelled file
is never parsed as something it is not. With neither a name nor a format to
go by, the content alone decides.
"""

from __future__ import annotations

import orjson

from backdrop.core.files.errors import BadFile

FORMATS = ("csv", "xlsx", "xls", "json", "jsonl")
"""The formats ``parse`` reads."""

EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
ALIASES = {"excel": "excel", "tsv": "csv", "ndjson": "jsonl"}
"""Other format names accepted (``excel``: either workbook format, as the
``upload_format`` of existing Backdrop configs says)."""

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOM = b"\xef\xbb\xbf"
_DESCRIBED = {
    "csv": "CSV text",
    "xlsx": "an .xlsx workbook",
    "xls": "an .xls workbook",
    "json": "JSON",
    "jsonl": "JSON Lines",
    "binary": "binary data",
}
_ALLOWED = "upload CSV (UTF-8), .xlsx, .xls, JSON or JSON Lines"


def named_format(filename: str | None) -> str | None:
    """The format a file name's extension declares, or None."""
    if not filename or "." not in filename:
        return None
    return EXTENSIONS.get(filename[filename.rindex(".") :].lower())


def known_format(name: str) -> str:
    """A format name or alias as one of ``FORMATS`` (or ``excel``); 400 if unknown."""
    name = name.strip().lower()
    if name in FORMATS:
        return name
    if name in ALIASES:
        return ALIASES[name]
    raise BadFile(
        f"unknown file format '{name}'", detail="formats: " + ", ".join((*FORMATS, "excel"))
    )


def _text_format(head: bytes) -> str:
    text = head.removeprefix(_BOM).lstrip()
    if text[:1] == b"[":
        return "json"
    if text[:1] == b"{":
        first, newline, _ = text.partition(b"\n")
        try:
            return "jsonl" if newline and isinstance(orjson.loads(first), dict) else "json"
        except orjson.JSONDecodeError:
            return "json"
    if b"\x00" in head:
        return "binary"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not just a character cut at the sample's end
            return "binary"
    return "csv"


def sniff(head: bytes) -> str:
    """The format of a file from its first bytes (``binary`` if none)."""
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_OLE2):
        return "xls"
    return _text_format(head)


def decide(head: bytes, filename: str | None, declared: str | None) -> str:
    """The format to parse: the content's, if the name or declared format agree."""
    expected = known_format(declared) if declared else named_format(filename)
    if not head.removeprefix(_BOM).strip():  # empty: its own parser says so
        return expected if expected in ("json", "jsonl") else "csv"
    content = sniff(head)
    if content == "binary":
        raise BadFile(f"the file holds {_DESCRIBED['binary']}", detail=_ALLOWED)
    json_family = ("json", "jsonl")
    if (
        expected is None
        or expected == content
        or (expected == "excel" and content in ("xlsx", "xls"))
        or (expected in json_family and content in json_family)
    ):
        return content
    label = f"named {filename}" if filename and not declared else f"declared as {expected}"
    raise BadFile(
        f"the file is {label} but its content is {_DESCRIBED[content]}",
        detail="the content decides the format; rename the file or save it in the format it claims",
    )
