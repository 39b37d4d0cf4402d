"""Dashboards (SPEC 11): the list, a dashboard as a grid of its tiles' charts,
create and edit with a tile editor, the whitelist and protect switches.

``/dashboards/<id>`` is the dashboard's one stable address: signed in, it has
the editing links; signed out, a published dashboard is shown read-only with
only the tiles whose data set is queryable and published, and anything else
goes to sign in like every other page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backdrop.admin import auth, tiles
from backdrop.admin.dashboard_forms import dashboard_body, tile_rows
from backdrop.admin.declare import page
from backdrop.core.dashboards.store import full
from backdrop.errors import BackdropError, BadRequest
from backdrop.web.dashboards import dashboards
from backdrop.web.extension import services

blueprint = Blueprint("dashboards", __name__)
CHARTS = ("line", "bar", "number", "rate", "table")
FLAGS = {"whitelisted": "whitelist", "protected": "protection"}


@blueprint.get("/dashboards")
@page("Every dashboard: title, tiles, size, last use, whitelist and protect switches")
def index() -> str:
    store = dashboards()
    return render_template(
        "dashboards/index.html", items=store.list(), usage=store.usage(), limits=store.limits
    )


def _form(dashboard: dict[str, Any], rows: list[dict[str, Any]], error: Any = None) -> str:
    return render_template(
        "dashboards/form.html",
        dashboard=dashboard,
        rows=rows,
        error=error,
        charts=CHARTS,
        data_sets=[config.name for config in services().registry.list()],
    )


def _submitted(existing: dict[str, Any] | None) -> tuple[dict[str, Any], str | None]:
    """The form's dashboard; a page to show instead when a tile was only added."""
    body = dashboard_body(request.form)
    if request.form.get("action") == "add-tile":
        return body, _form({**(existing or {}), **body}, tile_rows(body["tiles"]))
    return body, None


@blueprint.route("/dashboards/new", methods=["GET", "POST"])
@page("Create a dashboard; ?data_set= and ?query= prefill its first tile", 400, 409, 413, 507)
def create() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        first = {k: request.args.get(k, "") for k in ("data_set", "query") if request.args.get(k)}
        return _form({"title": "", "description": "", "published": False}, tile_rows([], first))
    body, shown = _submitted(None)
    if shown:
        return shown
    try:
        created = dashboards().create(body)
    except BackdropError as error:
        return _form(body, tile_rows(body["tiles"]), error), error.status
    flash(f"Created the dashboard {created['title']}.")
    return redirect(url_for("dashboards.show", dashboard_id=created["id"]))


@blueprint.route("/dashboards/<dashboard_id>/edit", methods=["GET", "POST"])
@page("Change a dashboard: title, description, published, tiles", 400, 403, 404, 413, 507)
def edit(dashboard_id: str) -> Response | str | tuple[str, int]:
    current = full(dashboards().get(dashboard_id))
    if request.method == "GET":
        return _form(current, tile_rows(current["tiles"]))
    body, shown = _submitted(current)
    if shown:
        return shown
    try:
        dashboards().update(dashboard_id, body)
    except BackdropError as error:
        return _form({**current, **body}, tile_rows(body["tiles"]), error), error.status
    flash(f"Saved {body['title']}.")
    return redirect(url_for("dashboards.show", dashboard_id=dashboard_id))


@blueprint.get("/dashboards/<dashboard_id>")
@page("A dashboard: a grid of its tiles' charts (published ones also signed out)", 404)
def show(dashboard_id: str) -> Response | str:
    store = dashboards()
    if not auth.signed_in():
        document = store.get(dashboard_id)
        if not document.body["dashboard"]["published"]:
            return redirect(url_for("auth.sign_in", next=request.path))
        dashboard = store.public(dashboard_id)
    else:
        dashboard = store.fetch(dashboard_id)
    registry = services().registry
    drawn = [
        tiles.draw(tile, registry.find_by_name(tile["data_set"])) for tile in dashboard["tiles"]
    ]
    return render_template("dashboards/show.html", dashboard=dashboard, drawn=drawn)


@blueprint.post("/dashboards/<dashboard_id>/flags")
@page("Switch a dashboard's whitelist or protection on or off", 400, 404)
def flags(dashboard_id: str) -> Response:
    flag = request.form.get("flag", "")
    if flag not in FLAGS:
        raise BadRequest(f"Unknown switch {flag!r}", detail="whitelisted or protected")
    on = request.form.get("value") == "on"
    dashboards().set_flags(dashboard_id, **{flag: on})
    flash(f"{FLAGS[flag].capitalize()} {'on' if on else 'off'} for {dashboard_id}.")
    back = request.form.get("back") == "show"
    return redirect(
        url_for("dashboards.show", dashboard_id=dashboard_id)
        if back
        else url_for("dashboards.index")
    )


@blueprint.post("/dashboards/<dashboard_id>/delete")
@page("Delete a dashboard (not a protected one)", 403, 404)
def delete(dashboard_id: str) -> Response:
    dashboards().delete(dashboard_id)
    flash(f"Deleted the dashboard {dashboard_id}.")
    return redirect(url_for("dashboards.index"))
