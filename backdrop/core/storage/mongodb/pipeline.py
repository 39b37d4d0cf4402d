"""Queries as MongoDB filters and aggregation pipelines, built from two tables:
``CONDITIONS`` (how each part of a ``Where`` becomes a filter) and ``COLLECTS``
(collect method → ``$group`` accumulators and the partial value read back).
Adding a collect method is one entry in ``COLLECTS`` (and the query model).

The pipelines are the ones a real server (4.4+) runs, written around
mongomock's gaps (no ``$type`` expression; Python equality in ``$match`` and
``$addToSet``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backdrop.core.periods import PERIODS
from backdrop.core.query import Collect, Filter, PrefixFilter, Where
from backdrop.core.storage.base import Row
from backdrop.core.storage.mongodb.values import plain
from backdrop.errors import InvalidQuery


def equal(item: Filter) -> dict[str, Any]:
    """The text itself, or the number it spells, or the boolean. ``$type`` keeps
    1 from matching true (real servers never do; mongomock compares in Python)."""
    options: list[dict[str, Any]] = [{item.field: item.value}]
    if item.number is not None:
        options.append({item.field: {"$eq": item.number, "$type": "number"}})
    if item.boolean is not None:
        options.append({item.field: {"$eq": item.boolean, "$type": "bool"}})
    return options[0] if len(options) == 1 else {"$or": options}


def prefixed(item: PrefixFilter) -> dict[str, Any]:
    """The prefix as literal text; the server refuses a pattern holding NUL."""
    if "\0" in item.prefix:
        raise InvalidQuery("filter_by_prefix cannot contain a NUL character on MongoDB")
    return {item.field: {"$regex": "^" + re.escape(item.prefix)}}


def time_bounds(where: Where) -> dict[str, Any] | None:
    bounds: dict[str, datetime] = {}
    if where.start is not None:
        bounds["$gte"] = where.start
    if where.end is not None:
        bounds["$lte" if where.end_inclusive else "$lt"] = where.end
    return {"_timestamp": bounds} if bounds else None


def conditions(where: Where) -> list[dict[str, Any]]:
    """One filter per part of ``where``, to be and-ed."""
    found = [equal(item) for item in where.filters]
    found += [prefixed(item) for item in where.prefixes]
    bounds = time_bounds(where)
    return found + ([bounds] if bounds else [])


def query(parts: list[dict[str, Any]]) -> dict[str, Any]:
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _present(field: str) -> dict[str, Any]:
    """True when the document has the field, even as null. ``$type`` would say
    "missing" more cheaply, but mongomock lacks it; records are small and flat."""
    keys = {"$map": {"input": {"$objectToArray": "$$ROOT"}, "in": "$$this.k"}}
    return {"$in": [field, keys]}


@dataclass(frozen=True)
class CollectStage:
    """A collect method in the pipeline: ``$group`` accumulators named after
    the collect's index, and the partial value read back from a result row."""

    accumulators: Callable[[str, str], dict[str, Any]]
    partial: Callable[[str, dict[str, Any]], Any]


def _set_accumulators(name: str, field: str) -> dict[str, Any]:
    # Wrapped, tagged values: mongomock's $addToSet turns 0 and false into
    # null and merges 1 with true; BSON never confuses them. A missing field
    # leaves no "value" in the wrapper and is dropped when unwrapping.
    value = f"${field}"
    return {f"{name}_set": {"$addToSet": {"value": value, "number": {"$isNumber": value}}}}


def _set_partial(name: str, row: dict[str, Any]) -> list[Any]:
    return [plain(member["value"]) for member in row[f"{name}_set"] if "value" in member]


def _count_accumulators(name: str, field: str) -> dict[str, Any]:
    return {f"{name}_n": {"$sum": {"$cond": [_present(field), 1, 0]}}}


def _numeric_accumulators(name: str, field: str) -> dict[str, Any]:
    value = f"${field}"
    numeric = {"$isNumber": value}
    absent_or_null = {"$eq": [{"$ifNull": [value, None]}, None]}
    return {
        f"{name}_sum": {"$sum": value},
        f"{name}_n": {"$sum": {"$cond": [numeric, 1, 0]}},
        f"{name}_bad": {"$max": {"$cond": [{"$or": [numeric, absent_or_null]}, 0, 1]}},
    }


def _numbers(name: str, row: dict[str, Any]) -> tuple[Any, int]:
    if row[f"{name}_bad"]:
        raise InvalidQuery("invalid collect function")
    return plain(row[f"{name}_sum"]), row[f"{name}_n"]


def _sum_partial(name: str, row: dict[str, Any]) -> Any:
    total, numbers = _numbers(name, row)
    return total if numbers else None


def _mean_partial(name: str, row: dict[str, Any]) -> list[Any]:
    return list(_numbers(name, row))


COLLECTS: dict[str, CollectStage] = {
    "set": CollectStage(_set_accumulators, _set_partial),
    "count": CollectStage(_count_accumulators, lambda name, row: row[f"{name}_n"]),
    "sum": CollectStage(_numeric_accumulators, _sum_partial),
    "mean": CollectStage(_numeric_accumulators, _mean_partial),
}


def _stage(collect: Collect) -> CollectStage:
    if collect.method not in COLLECTS:
        raise InvalidQuery("Unknown collection method")
    return COLLECTS[collect.method]


def grouping(
    where: Where, group_by: tuple[str, ...], period: str | None, collects: tuple[Collect, ...]
) -> list[dict[str, Any]]:
    """``$match`` then ``$group``: records missing a group field are left out.
    A group value is tagged with whether it is a number, so ``true`` and ``1``
    stay apart on mongomock too (which groups by Python equality; a server
    never merges them)."""
    parts = conditions(where)
    group_id: dict[str, Any] = {}
    for index, field in enumerate(group_by):
        parts.append({field: {"$ne": None}})
        group_id[f"g{index}"] = {"v": f"${field}", "n": {"$isNumber": f"${field}"}}
    if period is not None:
        key = PERIODS[period].key
        parts.append({key: {"$ne": None}})
        group_id["period"] = f"${key}"
    accumulators: dict[str, Any] = {"_count": {"$sum": 1}}
    for index, collect in enumerate(collects):
        accumulators.update(_stage(collect).accumulators(f"c{index}", collect.field))
    return [{"$match": query(parts)}, {"$group": {"_id": group_id or None, **accumulators}}]


def row(
    result: dict[str, Any],
    group_by: tuple[str, ...],
    period: str | None,
    collects: tuple[Collect, ...],
) -> Row:
    """One ``$group`` result as a contract row (see ``RecordStore.aggregate``)."""
    key = result["_id"] or {}
    answer = {field: plain(key[f"g{index}"]["v"]) for index, field in enumerate(group_by)}
    if period is not None:
        answer["_start_at"] = plain(key["period"])
    answer["_count"] = result["_count"]
    for index, collect in enumerate(collects):
        answer[collect.key] = _stage(collect).partial(f"c{index}", result)
    return answer
