"""The dashboard form ↔ the JSON body ``Dashboards`` takes (SPEC 11).

Each tile is a row of fields named ``tile-<n>-<field>``; its query is the
query string of the explorer (``period=week&duration=12&group_by=channel``,
or the whole explorer or read-API URL, whose query part is taken). A row left
blank is ignored and a ticked ``remove`` drops the tile. Options the form does
not show (an imported tile's ``source``) ride along in a hidden ``kept``
field, as JSON. The rules and messages stay those of the API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from werkzeug.datastructures import MultiDict

from backdrop.admin.tiles import query_string
from backdrop.errors import BadRequest

SHOWN_OPTIONS = (
    "value_attribute",
    "numerator_matcher",
    "denominator_matcher",
    "matching_attribute",
)
TILE_FIELDS = ("title", "data_set", "chart", "query", *SHOWN_OPTIONS)


def parse_query_text(text: str) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for key, value in parse_qsl(text.rpartition("?")[2].strip()):
        if key in query:
            query[key] = [*(query[key] if isinstance(query[key], list) else [query[key]]), value]
        else:
            query[key] = value
    return query


def _rows(form: MultiDict[str, str]) -> list[int]:
    numbers = {key.split("-")[1] for key in form if key.startswith("tile-")}
    return sorted(int(n) for n in numbers if n.isascii() and n.isdigit())


def _kept(text: str) -> dict[str, Any]:
    try:
        kept = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        kept = None
    if not isinstance(kept, dict):
        raise BadRequest("A tile's hidden options are not a JSON object; reload the page")
    return kept


def _tile(form: MultiDict[str, str], n: int) -> dict[str, Any]:
    def get(name: str) -> str:
        return form.get(f"tile-{n}-{name}", "").strip()

    options = {k: v for k, v in _kept(get("kept")).items() if k not in SHOWN_OPTIONS}
    options.update({k: get(k) for k in SHOWN_OPTIONS if get(k)})
    return {
        "title": get("title"),
        "data_set": get("data_set"),
        "chart": get("chart"),
        "query": parse_query_text(get("query")),
        "options": options,
    }


def dashboard_body(form: MultiDict[str, str]) -> dict[str, Any]:
    tiles = []
    for n in _rows(form):
        blank = not any(form.get(f"tile-{n}-{name}", "").strip() for name in ("title", "query"))
        if blank or form.get(f"tile-{n}-remove") == "on":
            continue
        tiles.append(_tile(form, n))
    return {
        "title": form.get("title", "").strip(),
        "description": form.get("description", "").strip(),
        "published": form.get("published") == "on",
        "tiles": tiles,
    }


def _hidden(options: dict[str, Any]) -> str:
    kept = {k: v for k, v in options.items() if k not in SHOWN_OPTIONS}
    return orjson.dumps(kept).decode() if kept else ""


def tile_rows(
    tiles: list[dict[str, Any]], first: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """What each tile row shows, then an empty row for a new tile (prefilled
    with ``first``: a data set and query from the explorer)."""
    rows = [
        {
            "kept": _hidden(tile["options"]),
            "title": tile["title"],
            "data_set": tile["data_set"],
            "chart": tile["chart"],
            "query": query_string(tile["query"]),
            **{k: tile["options"].get(k, "") for k in SHOWN_OPTIONS},
        }
        for tile in tiles
    ]
    empty = dict.fromkeys(TILE_FIELDS, "") | {"kept": "", "chart": "line"}
    return [*rows, {**empty, **(first or {})}]
