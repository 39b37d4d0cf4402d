"""Files to records: CSV, Excel (``.xlsx``, ``.xls``), JSON and JSON Lines.

One API, shared by the upload route, the web UI, ``backdrop push`` and
sources (SPEC 8, 15)::

    from backdrop.core.files import BadFile, FileTooLarge, ParseOptions, parse

    with open("sales.xlsx", "rb") as stream:
        for number, record in parse(stream, filename="sales.xlsx",
                                    options=ParseOptions(sheet="2024")):
            ...  # number: the file row (header = row 1); record: a flat dict

- ``parse(stream, filename=None, format=None, options=None)`` yields
  ``Row(number, record)`` lazily; memory holds one row (a ``.xls``, which
  cannot stream, is read whole). ``stream`` is binary; seekable is best (a
  workbook from a pipe is spooled to a temporary file).
- The format is judged by content; ``format`` (one of ``FORMATS``, or
  ``excel``, ``tsv``, ``ndjson``) or else the file name's extension must agree
  with it, and without either the content decides (``detect``).
- Spreadsheets: the header row names the keys; empty rows and rows starting
  with ``#`` are skipped; numeric-looking text becomes numbers; Excel dates
  become ISO timestamps (``values``, ``tabular``). JSON values stay as given.
- ``ParseOptions``: ``sheet`` (default the first), ``filters`` (names in the
  ``backdrop.upload_filters`` entry-point group, see ``filters``),
  ``max_rows``, ``max_bytes``, ``max_unzipped_bytes``.
- Errors: ``BadFile`` (a ``BadRequest``, 400) and ``FileTooLarge`` (a
  ``PayloadTooLarge``, 413), each with ``row`` (and ``BadFile`` ``column``)
  and a message such as ``row 17, column "volume": …``. The records are not
  validated here: ``backdrop.core.records`` does that, as for a JSON write.
"""

from backdrop.core.files.detect import FORMATS, named_format, sniff
from backdrop.core.files.errors import BadFile, FileTooLarge
from backdrop.core.files.parse import ParseOptions, parse
from backdrop.core.files.tabular import Row

__all__ = [
    "FORMATS",
    "BadFile",
    "FileTooLarge",
    "ParseOptions",
    "Row",
    "named_format",
    "parse",
    "sniff",
]
