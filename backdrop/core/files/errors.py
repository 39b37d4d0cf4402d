"""The two ways a file can be refused: it is bad (400) or it is too big (413).

Both name the row and column where one applies, so the person who made the
file can find the problem: ``row 17, column "volume": …``.
"""

from __future__ import annotations

from backdrop.errors import BadRequest, PayloadTooLarge


def _where(row: int | None, column: str | int | None) -> str:
    parts = []
    if row is not None:
        parts.append(f"row {row}")
    if isinstance(column, int):
        parts.append(f"column {column}")
    elif column is not None:
        parts.append(f'column "{column}"')
    return ", ".join(parts)


class BadFile(BadRequest):
    """A file that cannot be read as records; nothing of it may be stored.

    ``row`` is the 1-based row of the file (the header is row 1), ``column``
    the header name or, before a name is known, the 1-based column number.
    """

    def __init__(
        self,
        problem: str,
        *,
        row: int | None = None,
        column: str | int | None = None,
        detail: str | None = None,
    ):
        self.problem = problem
        self.row = row
        self.column = column
        where = _where(row, column)
        super().__init__(f"{where}: {problem}" if where else problem, detail=detail)


class FileTooLarge(PayloadTooLarge):
    """A file over one of the upload limits (bytes, rows, or unzipped bytes)."""

    def __init__(self, problem: str, *, row: int | None = None):
        self.row = row
        super().__init__(f"row {row}: {problem}" if row is not None else problem)
