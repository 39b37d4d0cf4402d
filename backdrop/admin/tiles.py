"""A dashboard tile → what its page draws: the tile's read query runs through
the same parser and reader as the read app (as the explorer's does), and
``charts`` turns the rows into a line or bar; a number tile shows the latest
value, a rate tile the ratio per period (the ``rate`` transform's rule, over
the rows of the tile's query), a table tile the first rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from backdrop.admin import charts
from backdrop.admin.pages.explorer import run
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.query import Query
from backdrop.core.query_args import parse_query
from backdrop.errors import InvalidQuery
from backdrop.transformers.builtin.rate import rate

TABLE_ROWS = 20


@dataclass
class Drawn:
    """One tile on the page: a chart spec, a number, table rows or a problem."""

    tile: dict[str, Any]
    query_string: str
    chart: dict[str, Any] | None = None
    number: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None


def query_string(query: dict[str, Any]) -> str:
    return urlencode(
        [(k, v) for k, vs in query.items() for v in (vs if isinstance(vs, list) else [vs])]
    )


def _shown(value: Any, percent: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–" if value is None else str(value)
    if percent:
        return f"{value:.1%}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def _latest(query: Query, flat: list[dict[str, Any]], key: str) -> Any:
    """The last period's value (period queries) or the first row's (others,
    which sort as the query says: ``sort_by=_timestamp:descending`` for a KPI)."""
    ordered = sorted(flat, key=lambda row: row["_start_at"]) if query.period else flat
    values = [row.get(key) for row in ordered if row.get(key) is not None]
    if not values:
        return None
    return values[-1] if query.period else values[0]


def _rate(drawn: Drawn, query: Query, flat: list[dict[str, Any]]) -> None:
    options = drawn.tile["options"]
    rows = rate(
        flat,
        {
            "matchingAttribute": options["matching_attribute"],
            "numeratorMatcher": options["numerator_matcher"],
            "denominatorMatcher": options["denominator_matcher"],
            "valueAttribute": options.get("value_attribute", "_count"),
        },
    )
    rows.sort(key=lambda row: row.get("_start_at") or 0)
    drawn.number = _shown(rows[-1]["rate"] if rows else None, percent=True)
    if query.period and rows:
        drawn.chart = {
            "kind": "line",
            "value": "rate",
            "x": [row["_start_at"].timestamp() for row in rows],
            "series": [{"label": "rate", "values": [row["rate"] for row in rows]}],
            "omitted": 0,
        }


def draw(tile: dict[str, Any], config: DataSetConfig | None) -> Drawn:
    drawn = Drawn(tile, query_string(tile["query"]))
    if config is None or not config.queryable:
        drawn.problem = f"The data set {tile['data_set']} is gone or not queryable."
        return drawn
    try:
        query = parse_query(tile["query"], raw_queries_allowed=config.raw_queries_allowed)
        rows = run(config, query)
        columns, flat = charts.table(rows)
        if tile["chart"] == "rate":
            _rate(drawn, query, flat)
            return drawn
    except (InvalidQuery, ValueError) as error:
        drawn.problem = f"This tile's query cannot run: {error}"
        return drawn
    key = tile["options"].get("value_attribute") or charts.value_key(query)
    if tile["chart"] == "number":
        drawn.number = _shown(_latest(query, flat, key))
    elif tile["chart"] in ("line", "bar"):
        drawn.chart = charts.chart(query, rows)
    if drawn.chart is None and drawn.number is None:
        drawn.columns, drawn.rows = columns, flat[:TABLE_ROWS]
    return drawn
