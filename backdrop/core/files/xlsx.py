"""``.xlsx`` sheets streamed row by row with expat, Python's C XML parser.

Why not openpyxl's read-only mode: it builds an ElementTree element per XML
node and does per-cell work in Python; on a 200,000-row sheet it read 5,100
rows/s here (a 37.6 s upload; the same rows as CSV took 5.9 s), and a
sheet without a ``<dimension>`` element (openpyxl's own streaming writer
leaves it out) is read once more just to size it. Feeding expat 16 KB at a
time with three small callbacks reads the same sheet about seven times as
fast (benchmarks/RESULTS.md). openpyxl still supplies the rules: which
number formats are dates, and Excel serial numbers to dates.

A workbook is a zip of XML parts: ``xl/workbook.xml`` names the sheets (and
the 1904 date system, if used), its relationships give each sheet's part,
``xl/sharedStrings.xml`` holds the text of ``t="s"`` cells and
``xl/styles.xml`` the number format of each cell style. Parts may not carry a
DOCTYPE (no workbook does), so entity tricks are refused outright.
"""

from __future__ import annotations

import posixpath
import xml.parsers.expat
import zipfile
from collections.abc import Callable, Generator, Iterator
from datetime import datetime
from typing import IO, Any

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from backdrop.core.files.errors import BadFile
from backdrop.core.files.tabular import RawRow, Sheet

CHUNK = 16 * 1024  # rows of one chunk wait in memory: a hostile XFD column stays tens of MB
MAX_COLUMNS = 16_384  # Excel's own limit (XFD)
Handlers = tuple[Callable[..., None], Callable[[str], None], Callable[[str], None]]


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _no_doctype(*_args: Any) -> None:
    raise BadFile("the workbook holds an XML DOCTYPE, which no spreadsheet writes")


def _feed(part: IO[bytes], handlers: Handlers, *, namespaces: bool = True) -> Iterator[None]:
    """Parse ``part`` a chunk at a time, pausing after each (for the caller to
    hand on what the callbacks collected). Without ``namespaces`` names come
    as written (``c``, or ``x:c`` with a prefix), which is faster."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}" if namespaces else None)
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = handlers
    parser.StartDoctypeDeclHandler = _no_doctype
    parser.EntityDeclHandler = _no_doctype
    while chunk := part.read(CHUNK):
        parser.Parse(chunk, False)
        yield
    parser.Parse(b"", True)
    yield


def _each(part: IO[bytes], on_start: Callable[[str, dict[str, str]], None]) -> None:
    """Call ``on_start(local name, attributes)`` for every element of a part."""
    for _ in _feed(part, (lambda name, attrs: on_start(_local(name), attrs), _skip, _skip)):
        pass


def _skip(_value: str) -> None:
    return None


def _texts(part: IO[bytes], item: str) -> list[str]:
    """The text of each ``item`` element (``si`` of shared strings), joining
    its ``t`` runs and leaving out phonetic guides (``rPh``)."""
    texts: list[str] = []
    parts: list[str] = []
    depth = {"t": False, "rPh": 0}

    def start(name: str, _attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "t":
            depth["t"] = True
        elif local == "rPh":
            depth["rPh"] += 1

    def end(name: str) -> None:
        local = _local(name)
        if local == "t":
            depth["t"] = False
        elif local == "rPh":
            depth["rPh"] -= 1
        elif local == item:
            texts.append("".join(parts))
            parts.clear()

    def text(data: str) -> None:
        if depth["t"] and not depth["rPh"]:
            parts.append(data)

    for _ in _feed(part, (start, end, text)):
        pass
    return texts


def _date_styles(part: IO[bytes]) -> set[int]:
    """Indices of the cell styles (``cellXfs``) whose number format is a date."""
    formats = dict(BUILTIN_FORMATS)
    styles: list[int] = []
    inside = {"cellXfs": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "numFmt":
            formats[int(attrs.get("numFmtId", -1))] = attrs.get("formatCode", "")
        elif name == "cellXfs":
            inside["cellXfs"] = True
        elif name == "xf" and inside["cellXfs"]:
            styles.append(int(attrs.get("numFmtId", 0)))
        elif name == "cellStyles":
            inside["cellXfs"] = False

    _each(part, start)
    return {i for i, fmt in enumerate(styles) if fmt in formats and is_date_format(formats[fmt])}


class _Book:
    """What a workbook says about itself: sheets, strings, date styles, epoch."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.sheets: list[tuple[str, str]] = []  # (name, relationship id)
        self.epoch = CALENDAR_WINDOWS_1900
        with archive.open("xl/workbook.xml") as part:
            _each(part, self._workbook)
        targets: dict[str, tuple[str, str]] = {}
        rels = "xl/_rels/workbook.xml.rels"
        if rels in archive.namelist():
            with archive.open(rels) as part:
                _each(part, lambda name, a: self._relationship(name, a, targets))
        self.paths = [(name, targets.get(rid, ("", ""))) for name, rid in self.sheets]
        self.strings = self._part(targets, "/sharedStrings", lambda p: _texts(p, "si"), [])
        self.dates = self._part(targets, "/styles", _date_styles, set())

    def _workbook(self, name: str, attrs: dict[str, str]) -> None:
        if name == "workbookPr" and attrs.get("date1904") in ("1", "true"):
            self.epoch = CALENDAR_MAC_1904
        elif name == "sheet":
            rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
            self.sheets.append((attrs.get("name", f"Sheet{len(self.sheets) + 1}"), rid))

    @staticmethod
    def _relationship(name: str, attrs: dict[str, str], into: dict[str, tuple[str, str]]) -> None:
        if name == "Relationship":
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            into[attrs.get("Id", "")] = (posixpath.normpath(path), attrs.get("Type", ""))

    def _part(self, targets: dict[str, tuple[str, str]], kind: str, read: Any, empty: Any) -> Any:
        path = next((p for p, t in targets.values() if t.endswith(kind)), None)
        if path is None or path not in self.archive.namelist():
            return empty
        with self.archive.open(path) as part:
            return read(part)


_COLUMNS: dict[str, int] = {}  # "AB" → 27, memoised: at most Excel's 16,384


def _column(ref: str | None, default: int) -> int:
    """The 0-based column of a cell reference such as ``AB12``."""
    if not ref:
        return default
    letters = ref.rstrip("0123456789")
    index = _COLUMNS.get(letters)
    if index is not None:
        return index
    index = 0
    for char in letters:
        if not "A" <= char <= "Z":
            index = 0
            break
        index = index * 26 + ord(char) - 64
    if not 0 < index <= MAX_COLUMNS:
        raise BadFile(f"a cell reference out of Excel's range: {ref}")
    _COLUMNS[letters] = index - 1
    return index - 1


def _number(text: str) -> int | float:
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


class _Rows:
    """The expat callbacks of one sheet, collecting finished rows."""

    def __init__(self, book: _Book):
        self.book = book
        self.done: list[RawRow] = []
        self.cells: list[Any] = []
        self.number = 0
        self.cell: dict[str, str] = {}
        self.parts: list[str] = []  # the text of the current cell
        self.text: list[str] | None = None  # where text goes now (inside <v> or <t>)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "c":
            self.cell, self.parts = attrs, []
        elif name == "v" or name == "t":  # a value, or inline text (not a formula's <f>)
            self.text = self.parts
        elif name == "row":
            given = attrs.get("r", "")
            self.number = int(given) if given.isascii() and given.isdigit() else self.number + 1
            self.cells = []
        elif ":" in name:  # a namespace prefix: rare, so checked last
            self.start(name.rpartition(":")[2], attrs)

    def end(self, name: str) -> None:
        if name == "c":
            column = _column(self.cell.get("r"), len(self.cells))
            value = self._value("".join(self.parts))
            if value is None and column >= len(self.cells):
                return  # an empty cell needs no place
            if column >= len(self.cells):
                self.cells.extend([None] * (column + 1 - len(self.cells)))
            self.cells[column] = value
        elif name == "v" or name == "t":
            self.text = None
        elif name == "row":
            self.done.append((self.number, self.cells))
        elif ":" in name:
            self.end(name.rpartition(":")[2])

    def characters(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def _value(self, text: str) -> Any:
        kind = self.cell.get("t", "n")
        if kind == "s":
            return self.book.strings[int(text)] if text else None
        if kind in ("inlineStr", "str", "e"):
            return text
        if not text:
            return None
        if kind == "b":
            return text in ("1", "true")
        if kind == "d":
            return datetime.fromisoformat(text.removesuffix("Z"))
        number = _number(text)
        style = self.cell.get("s")
        if style and int(style) in self.book.dates:
            return from_excel(number, self.book.epoch)
        return number


def _sheet_rows(book: _Book, path: str) -> Iterator[RawRow]:
    rows = _Rows(book)
    try:
        with book.archive.open(path) as part:
            for _ in _feed(part, (rows.start, rows.end, rows.characters), namespaces=False):
                yield from rows.done
                rows.done.clear()
    except BadFile:
        raise
    except (xml.parsers.expat.ExpatError, ValueError, IndexError, KeyError) as error:
        raise BadFile(
            f"the workbook's sheet is damaged ({type(error).__name__}: {error})",
            row=rows.number + 1,
        ) from None


def sheets(archive: zipfile.ZipFile) -> Generator[Sheet, None, None]:
    """The worksheets of an opened ``.xlsx`` archive, each read lazily."""
    book = _Book(archive)
    for name, (path, kind) in book.paths:
        if kind.endswith("/worksheet") and path in archive.namelist():
            yield Sheet(name, _sheet_rows(book, path))
