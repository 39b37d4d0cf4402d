"""``GET /_status/data-sets``: which data sets have not been written to for
longer than their ``max_age_expected`` (SPEC 5.5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify

from backdrop.core.data_sets import DataSetConfig
from backdrop.core.storage.base import StorageEngine
from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation

blueprint = Blueprint("freshness", __name__)


def out_of_date(
    engine: StorageEngine, configs: list[DataSetConfig], now: datetime
) -> list[dict[str, Any]]:
    """Stale data sets; those never written to, or never checked, are skipped."""
    stale = []
    for config in configs:
        if config.max_age_expected is None:
            continue
        last_updated = engine.records.last_updated(config.name)
        if last_updated is None:
            continue
        age = int((now - last_updated).total_seconds())
        if age > config.max_age_expected:
            stale.append(
                {
                    "name": config.name,
                    "seconds-out-of-date": age - config.max_age_expected,
                    "last-updated": last_updated,
                    "max-age-expected": config.max_age_expected,
                }
            )
    return stale


def freshness_body(stale: list[dict[str, Any]]) -> dict[str, Any]:
    if not stale:
        return {"status": "ok", "data_sets": None, "message": "All data_sets are in date"}
    count = len(stale)
    message = "1 data-set is out of date" if count == 1 else f"{count} data-sets are out of date"
    return {"status": "not okay", "data_sets": stale, "message": message}


@blueprint.get("/_status/data-sets")
@operation(
    "Data sets not written to for longer than their max_age_expected",
    tag="status",
    responses={
        200: Success("in date, or the list of those out of date", "Freshness"),
        503: "Unavailable",
    },
)
def data_sets_status() -> Response:
    backdrop = services()
    stale = out_of_date(backdrop.engine, backdrop.registry.list(), datetime.now(UTC))
    response = jsonify(freshness_body(stale))
    response.headers["Cache-Control"] = "no-cache"
    return response
