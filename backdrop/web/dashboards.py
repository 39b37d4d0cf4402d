"""The app's ``Dashboards``, built on first use and kept for the app's life,
so the coarse-grained ``last_fetched`` bookkeeping lasts across requests."""

from __future__ import annotations

from flask import current_app

from backdrop.core.dashboards.eviction import Limits
from backdrop.core.dashboards.store import Dashboards
from backdrop.web.extension import services


def dashboards() -> Dashboards:
    found = current_app.extensions.get("backdrop_dashboards")
    if found is None:
        found = Dashboards(services().engine, Limits.from_settings(services().settings))
        current_app.extensions["backdrop_dashboards"] = found
    return found
