"""Storage contract, part 5: every reachable engine gives identical answers,
types included (an int is not a float, a bool is not a number)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from backdrop.core.catalog import Catalog
from backdrop.core.query import Collect, Filter, PrefixFilter, Sort, Where, sorted_set
from tests.core.storage.contract import at, config, record

NAME = "agree"
REGIONS = ["north", "south", "east", "Ëast", "west-1", None]


def _records() -> list[dict[str, Any]]:
    records = []
    for i in range(60):
        fields: dict[str, Any] = {
            "region": REGIONS[i % len(REGIONS)],
            "visits": i * 3,
            "ratio": i / 4,
            "paid": i % 3 == 0,
            "label": f"item.{i % 7}%_{i % 2}",
            "score": i % 5 if i % 4 else None,
        }
        if i % 9 == 0:
            del fields["ratio"]
        timestamp = (
            None if i % 13 == 0 else f"2024-0{1 + i % 3}-{1 + i % 28:02d}T{i % 24:02d}:30:00"
        )
        records.append(record(f"id:{i:03d}/{i % 4}", timestamp, **fields))
    return records


FINDS = [
    (Where(), None, None),
    (Where(filters=(Filter("region", "north"),)), Sort("visits", descending=True), None),
    (Where(filters=(Filter("score", "2"),)), Sort("score"), 5),
    (Where(filters=(Filter("paid", "true"), Filter("score", "0"))), None, None),
    (Where(prefixes=(PrefixFilter("label", "item.3%_"),)), Sort("_timestamp"), None),
    (Where(prefixes=(PrefixFilter("region", "e"),)), Sort("region"), None),
    (Where(start=at("2024-02-01T00:00:00"), end=at("2024-03-01T00:00:00")), None, 10),
    (Where(end=at("2024-02-05T00:00:00"), end_inclusive=True), Sort("_id", True), None),
    (Where(), Sort("region"), None),
    (Where(), Sort("score", descending=True), 20),
]

ALL_COLLECTS = tuple(
    Collect(field, method)
    for field in ("visits", "ratio", "score")
    for method in ("sum", "count", "set", "mean")
) + (Collect("paid", "set"), Collect("label", "count"))

AGGREGATES = [
    (Where(), ("region",), None, ALL_COLLECTS),
    (Where(), ("region", "paid"), None, (Collect("visits", "sum"),)),
    (
        Where(start=at("2024-01-01T00:00:00"), end=at("2024-04-01T00:00:00")),
        (),
        "week",
        ALL_COLLECTS,
    ),
    (Where(), ("score",), "month", (Collect("ratio", "mean"), Collect("region", "set"))),
    (Where(filters=(Filter("paid", "false"),)), ("paid",), "day", (Collect("score", "count"),)),
    (Where(prefixes=(PrefixFilter("label", "item.1"),)), ("label",), "quarter", ()),
]


def _typed(value: Any) -> Any:
    """The value with every leaf tagged by its type, so 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, datetime):
        return ("datetime", value.isoformat())
    return (type(value).__name__, value)


def _normal_rows(rows: list[dict[str, Any]]) -> list[Any]:
    for row in rows:
        for key, value in row.items():
            if key.endswith(":set"):
                row[key] = sorted_set(value)
    return sorted((_typed(row) for row in rows), key=repr)


def _answers(engine) -> dict[str, Any]:
    Catalog(engine).create(config(NAME))
    engine.records.save(NAME, _records())
    answers = {}
    for n, (where, sort, limit) in enumerate(FINDS):
        answers[f"find {n}"] = _typed(engine.records.find(NAME, where, sort, limit))
    for n, (where, group_by, period, collects) in enumerate(AGGREGATES):
        rows = engine.records.aggregate(NAME, where, group_by, period, collects)
        answers[f"aggregate {n}"] = _normal_rows(rows)
    return answers


def test_every_engine_answers_every_query_alike(engines):
    if len(engines) < 2:
        pytest.skip(f"only {', '.join(engines)} can run here: nothing to compare")
    reference = _answers(engines["sqlite"])
    assert all(reference.values()), "every query matches something"
    differences = [
        f"{name} differs from sqlite on {query}"
        for name, engine in engines.items()
        if name != "sqlite"
        for query, answer in _answers(engine).items()
        if answer != reference[query]
    ]
    assert differences == []
