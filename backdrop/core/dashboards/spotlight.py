"""Performance Platform dashboards move over (SPEC 11, last paragraph).

Stagecraft served Spotlight a dashboard as ``slug``, ``title``,
``description``, ``published`` and ``modules``; each module names its
``module-type`` and a ``data-source`` (``data-group``, ``data-type``,
``query-params``), and a ``tab`` module holds ``tabs`` of modules. Each module
(each tab) becomes one tile on the data set at that address; the module itself
is kept in ``options.source``. A module type with no chart here becomes a
``table`` tile and is reported, so nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backdrop.core.dashboards.validation import InvalidDashboard
from backdrop.core.data_sets import Registry
from backdrop.errors import BadRequest

CHARTS = {
    "grouped_timeseries": "line",
    "single_timeseries": "line",
    "realtime": "line",
    "availability": "line",
    "bar_chart_with_number": "bar",
    "kpi": "number",
    "completion_rate": "rate",
    "user_satisfaction_graph": "line",
    "journey": "bar",
    "list": "table",
    "table": "table",
}
# Spotlight's option names → the tile options the UI draws with
OPTIONS = {
    "value-attribute": "value_attribute",
    "numerator-matcher": "numerator_matcher",
    "denominator-matcher": "denominator_matcher",
    "matching-attribute": "matching_attribute",
}
RATE_DEFAULTS = {"matching_attribute": "eventCategory"}


@dataclass
class Converted:
    """A Spotlight dashboard as a Backdrop one, with what the import must report."""

    id: str
    dashboard: dict[str, Any]
    unknown: list[dict[str, Any]] = field(default_factory=list)


def _modules(body: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(path, module, its tab module or None) for every module and every tab."""
    modules = body.get("modules", [])
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        raise BadRequest("Invalid Spotlight dashboard: modules must be a list of objects")
    found: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    for index, module in enumerate(modules):
        if module.get("module-type") != "tab":
            found.append((f"modules[{index}]", module, None))
            continue
        tabs = module.get("tabs")
        if not isinstance(tabs, list) or not all(isinstance(t, dict) for t in tabs):
            raise BadRequest(f"Invalid Spotlight dashboard: modules[{index}].tabs must be a list")
        for number, tab in enumerate(tabs):
            found.append((f"modules[{index}].tabs[{number}]", tab, module))
    return found


def _data_set(path: str, module: dict[str, Any], registry: Registry) -> str:
    source = module.get("data-source")
    if not isinstance(source, dict):
        raise InvalidDashboard([f"{path}: no data-source (data-group and data-type)"])
    group, kind = source.get("data-group"), source.get("data-type")
    config = (
        registry.find(group, kind) if isinstance(group, str) and isinstance(kind, str) else None
    )
    if config is None:
        raise InvalidDashboard(
            [f"{path}.data-source: no data set has data_group {group!r} and data_type {kind!r}"]
        )
    return config.name


def _tile(
    path: str, module: dict[str, Any], tab_of: dict[str, Any] | None, registry: Registry
) -> dict[str, Any]:
    module_type = module.get("module-type")
    chart = CHARTS.get(module_type, "table") if isinstance(module_type, str) else "table"
    options: dict[str, Any] = {OPTIONS[k]: v for k, v in module.items() if k in OPTIONS}
    if chart == "rate":
        options = {**RATE_DEFAULTS, **options}
    options["source"] = module
    if tab_of is not None:
        options["tab_of"] = {k: v for k, v in tab_of.items() if k != "tabs"}
    title = module.get("title") or module.get("slug") or path
    if tab_of is not None and tab_of.get("title"):
        title = f"{tab_of['title']}: {title}"
    source = module.get("data-source") or {}
    return {
        "title": str(title),
        "data_set": _data_set(path, module, registry),
        "query": dict(source.get("query-params") or {}),
        "chart": chart,
        "options": options,
    }


def convert(body: Any, registry: Registry) -> Converted:
    """The Backdrop dashboard for a Stagecraft dashboard document."""
    if not isinstance(body, dict) or not isinstance(body.get("slug"), str):
        raise BadRequest("Invalid Spotlight dashboard: expected a JSON object with a slug")
    unknown: list[dict[str, Any]] = []
    tiles: list[dict[str, Any]] = []
    for path, module, tab_of in _modules(body):
        module_type = module.get("module-type")
        if module_type not in CHARTS:
            unknown.append({"module": path, "module_type": module_type, "tile": len(tiles)})
        tiles.append(_tile(path, module, tab_of, registry))
    dashboard = {
        "title": body.get("title") or body["slug"],
        "description": body.get("description") or "",
        "published": body.get("published") is True,
        "tiles": tiles,
    }
    return Converted(body["slug"], dashboard, unknown)
