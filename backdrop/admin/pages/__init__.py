"""The web UI's pages, one blueprint module per area.

``BLUEPRINTS`` is every page module the app registers, in order; a new area
(e.g. dashboards) is a new module here with its own blueprint, templates
under ``templates/<area>/``, one line in ``BLUEPRINTS`` and, for a link in
the header, one in ``NAVIGATION``.
"""

from __future__ import annotations

from flask import Blueprint

from backdrop.admin.pages import auth, dashboards, data_set, data_sets, explorer, upload

BLUEPRINTS: tuple[Blueprint, ...] = (
    auth.blueprint,
    data_sets.blueprint,
    data_set.blueprint,
    explorer.blueprint,
    upload.blueprint,
    dashboards.blueprint,
)
# The header's links: (label, endpoint), shown when signed in.
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("Data sets", "data_sets.index"),
    ("Dashboards", "dashboards.index"),
)
