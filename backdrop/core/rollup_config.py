"""The rules of a data set's rollup fields: ``dimensions``, ``measures`` and
``rollup_grain`` (``backdrop.core.rollups`` turns valid ones into a spec).

Kept apart from ``data_sets`` so the registry only calls ``check`` and every
message about these fields lives in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backdrop.core.names import KEY_PATTERN
from backdrop.core.rollups import GRAINS
from backdrop.errors import BadRequest

MAX_GROUP_FIELDS = 4
MAX_GROUPS = 16
MAX_MEASURES = 16
FIELD_RULE = (
    "a record key (^[a-z_][a-z0-9_]+$ in any case, at least two characters) "
    "not starting with _ (Backdrop's own fields cannot be rolled up)"
)


def _field(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{where} must be a field name", detail=f"got {value!r}; {FIELD_RULE}")
    if value.startswith("_") or not KEY_PATTERN.fullmatch(value):
        raise BadRequest(
            f"{where} is not a field that can be rolled up: {value!r}",
            detail=f"each field must be {FIELD_RULE}",
        )
    return value


def _group(entry: Any, index: int) -> tuple[str, ...]:
    """One ``dimensions`` entry as a tuple of fields."""
    where = f"dimensions[{index}]"
    if isinstance(entry, str):
        return (_field(entry, where),)
    if not isinstance(entry, list) or not entry:
        raise BadRequest(
            f"{where} must be a field name or a non-empty list of field names",
            detail=f"got {entry!r}",
        )
    if len(entry) > MAX_GROUP_FIELDS:
        raise BadRequest(
            f"{where} groups {len(entry)} fields; a group has at most {MAX_GROUP_FIELDS}",
            detail="split it into smaller groups: each query is answered from one group",
        )
    group = tuple(_field(value, f"{where}[{i}]") for i, value in enumerate(entry))
    if len(set(group)) < len(group):
        raise BadRequest(f"{where} names a field twice: {list(group)}")
    return group


def _groups(dimensions: Any) -> list[tuple[str, ...]]:
    if not isinstance(dimensions, list):
        raise BadRequest(
            "dimensions must be a list of field names (or lists of field names) or null",
            detail=f"got {dimensions!r}",
        )
    if len(dimensions) > MAX_GROUPS:
        raise BadRequest(f"dimensions has {len(dimensions)} entries; at most {MAX_GROUPS}")
    groups: list[tuple[str, ...]] = []
    for index, entry in enumerate(dimensions):
        group = _group(entry, index)
        if any(set(group) == set(seen) for seen in groups):
            raise BadRequest(f"dimensions[{index}] repeats an earlier entry: {entry!r}")
        groups.append(group)
    return groups


def _measures(measures: Any) -> list[str]:
    if not isinstance(measures, list):
        raise BadRequest(
            "measures must be a list of field names or null", detail=f"got {measures!r}"
        )
    if len(measures) > MAX_MEASURES:
        raise BadRequest(f"measures has {len(measures)} entries; at most {MAX_MEASURES}")
    names = [_field(value, f"measures[{i}]") for i, value in enumerate(measures)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise BadRequest(f"measures names a field twice: {', '.join(repeated)}")
    return names


def check(values: Mapping[str, Any]) -> None:
    """Raise ``BadRequest`` naming the first thing wrong with the rollup
    fields of ``values`` (a whole config, so that a field is never both a
    dimension and a measure)."""
    if "rollup_grain" in values and values["rollup_grain"] not in GRAINS:
        raise BadRequest(
            "rollup_grain must be 'day' or 'hour'", detail=f"got {values['rollup_grain']!r}"
        )
    groups = [] if values.get("dimensions") is None else _groups(values["dimensions"])
    measures = [] if values.get("measures") is None else _measures(values["measures"])
    both = sorted({field for group in groups for field in group} & set(measures))
    if both:
        raise BadRequest(
            f"{', '.join(both)} cannot be both a dimension and a measure",
            detail="dimensions are grouped and filtered by; measures are "
            "summed, counted and averaged",
        )
