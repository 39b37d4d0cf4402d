"""The bulk export of SPEC 13: every record of a data set, page by page.

Pages are keyset pages in ``_id`` order (``RecordStore.page``), so page 1 and
page 10,000 cost the same, and records written during a walk never make it
skip or repeat one that existed when it started. The cursor a client gets
back (``next-id``) is opaque: URL-safe base64 of the last ``_id`` served, so
its form can change without breaking clients that only follow ``next``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backdrop.core.parameters import EXPORT_PARAMETERS
from backdrop.core.query_args import Args, parse_datetime
from backdrop.core.storage.base import Record, RecordStore
from backdrop.errors import InvalidQuery

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
ORIENTATIONS = ("records", "tabular")
FORMATS = ("json", "jsonl", "csv")
PARAMETERS = tuple(parameter.name for parameter in EXPORT_PARAMETERS)
CURSOR_PREFIX = "1:"  # the cursor's version, so a later form can be told apart


@dataclass(frozen=True)
class Export:
    """One export request, parsed from its query string."""

    orientation: str = "records"
    limit: int = DEFAULT_LIMIT
    after: str | None = None
    updated_since: datetime | None = None
    format: str = "json"


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode((CURSOR_PREFIX + last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The ``_id`` a cursor points after, or 400 for anything this module did not make."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith(CURSOR_PREFIX):
        raise InvalidQuery(
            "next-id is not a valid cursor",
            detail="follow the next URL of a previous page; do not build cursors",
        )
    return text[len(CURSOR_PREFIX) :]


def _choice(args: Args, name: str, allowed: tuple[str, ...]) -> str:
    values = args.getlist(name)
    value = values[0] if values else allowed[0]
    if value not in allowed:
        raise InvalidQuery(f"{name} must be one of {', '.join(allowed)}", detail=f"got {value!r}")
    return value


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidQuery(
            f"limit must be a whole number from 1 to {MAX_LIMIT}", detail=f"got {text!r}"
        )
    return int(text)


def parse_export(args: Args) -> Export:
    unknown = set(args.keys()) - set(PARAMETERS)
    if unknown:
        raise InvalidQuery(
            "An unrecognised parameter was provided",
            detail=f"unknown: {', '.join(sorted(unknown))}; allowed: {', '.join(PARAMETERS)}",
        )
    for name in PARAMETERS:
        if len(args.getlist(name)) > 1:
            raise InvalidQuery(f"{name} may be given only once")
    cursor = args.getlist("next-id")
    updated_since = args.getlist("updated_since")
    limit = args.getlist("limit")
    return Export(
        orientation=_choice(args, "orientation", ORIENTATIONS),
        limit=_limit(limit[0] if limit else None),
        after=decode_cursor(cursor[0]) if cursor else None,
        updated_since=parse_datetime("updated_since", updated_since[0] if updated_since else None),
        format=_choice(args, "format", FORMATS),
    )


def page(records: RecordStore, data_set: str, export: Export) -> tuple[list[Record], str | None]:
    """One page and the cursor of the next one (None after the last page).

    One record more than the page is read, so the last page says so itself
    instead of leaving the client one empty page to fetch."""
    found = records.page(data_set, export.after, export.limit + 1, export.updated_since)
    if len(found) > export.limit:
        return found[: export.limit], encode_cursor(found[export.limit - 1]["_id"])
    return found, None


def walk(records: RecordStore, data_set: str, export: Export) -> Iterator[list[Record]]:
    """Every page from ``export``'s cursor to the end, one page in memory at a time."""
    after = export.after
    while True:
        found = records.page(data_set, after, export.limit, export.updated_since)
        if found:
            yield found
        if len(found) < export.limit:
            return
        after = found[-1]["_id"]


def headers(records: list[Record]) -> list[str]:
    """The keys of a page's records: ``_id`` first, the rest sorted."""
    keys = {key for record in records for key in record} - {"_id"}
    return ["_id", *sorted(keys)] if records else []


def tabular(records: list[Record]) -> tuple[list[str], list[list[Any]]]:
    """A page as ``headers`` and one row of values per record (None where absent)."""
    keys = headers(records)
    return keys, [[record.get(key) for key in keys] for record in records]
