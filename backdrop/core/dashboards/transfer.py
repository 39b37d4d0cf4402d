"""Many dashboards as one JSON file, to move them between deployments.

``{"format": "backdrop-dashboards/1", "dashboards": [{"id", "dashboard",
"whitelisted", "protected"}, …]}``: export writes it, import reads it back.
Import checks every entry before it stores any, and leaves a dashboard whose
id is already there untouched (reported as skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backdrop.core.dashboards.store import Dashboards
from backdrop.core.dashboards.validation import InvalidDashboard, check_id, validate
from backdrop.errors import BadRequest

FORMAT = "backdrop-dashboards/1"


def export(dashboards: Dashboards, ids: list[str] | None = None) -> dict[str, Any]:
    """Every dashboard (or those of ``ids``, 404 for an unknown one), by id."""
    chosen = ids if ids else [summary["id"] for summary in dashboards.list()]
    entries = []
    for dashboard_id in chosen:
        body = dashboards.get(dashboard_id).body
        entries.append(
            {
                "id": dashboard_id,
                "dashboard": body["dashboard"],
                "whitelisted": body["whitelisted"],
                "protected": body["protected"],
            }
        )
    return {"format": FORMAT, "dashboards": entries}


def _entries(bundle: Any) -> list[dict[str, Any]]:
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BadRequest(
            "Not a dashboards export",
            detail=f'expected a JSON object with "format": "{FORMAT}" and "dashboards"',
        )
    entries = bundle.get("dashboards")
    if not isinstance(entries, list):
        raise BadRequest("Not a dashboards export: dashboards must be a list")
    for index, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("id"), str)):
            raise BadRequest(f"dashboards[{index}]: expected an object with an id")
        check_id(entry["id"])
    return entries


def import_bundle(
    dashboards: Dashboards, bundle: Any, progress: Callable[[str, str], None] | None = None
) -> dict[str, list[str]]:
    """Store each dashboard of an export; ``progress(id, outcome)`` after each."""
    entries = _entries(bundle)
    problems = []
    for index, entry in enumerate(entries):
        try:
            validate(entry.get("dashboard"), dashboards.registry)
        except InvalidDashboard as error:
            problems += [f"dashboards[{index}] ({entry['id']}): {m}" for m in error.messages]
    if problems:
        raise InvalidDashboard(problems)
    report: dict[str, list[str]] = {"created": [], "skipped": []}
    for entry in entries:
        if dashboards.documents.get("dashboard", entry["id"]) is not None:
            outcome = "skipped"
        else:
            flags = {k: entry.get(k) is True for k in ("whitelisted", "protected")}
            dashboards.create(entry["dashboard"], entry["id"], **flags)
            outcome = "created"
        report[outcome].append(entry["id"])
        if progress:
            progress(entry["id"], outcome)
    return report
