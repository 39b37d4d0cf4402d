"""The data sets: a table of all of them, create, edit, rotate token, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backdrop.admin import forms
from backdrop.admin.declare import page
from backdrop.core.data_sets import DataSetConfig
from backdrop.errors import BackdropError, BadRequest
from backdrop.web.extension import services

blueprint = Blueprint("data_sets", __name__)


@dataclass(frozen=True)
class Row:
    """One line of the data sets table."""

    config: DataSetConfig
    records: int
    last_updated: datetime | None
    out_of_date_by: int | None  # seconds past max_age_expected; None: in date or unchecked

    @property
    def checked(self) -> bool:
        return self.config.max_age_expected is not None and self.last_updated is not None


def table_row(config: DataSetConfig, now: datetime) -> Row:
    records = services().engine.records
    last = records.last_updated(config.name)
    late = None
    if last is not None and config.max_age_expected is not None:
        age = int((now - last).total_seconds())
        late = age - config.max_age_expected if age > config.max_age_expected else None
    return Row(config, records.count(config.name), last, late)


@blueprint.get("/")
@page("The web UI: goes to the data sets")
def home() -> Response:
    return redirect(url_for("data_sets.index"))


@blueprint.get("/data-sets")
@page("Every data set: address, records, last update, freshness; ?q= searches names")
def index() -> str:
    search = request.args.get("q", "").strip()
    configs = services().registry.list()
    if search:
        configs = [c for c in configs if search.lower() in c.name]
    now = datetime.now(UTC)
    rows = [table_row(config, now) for config in configs]
    return render_template("data_sets/index.html", rows=rows, search=search)


@blueprint.route("/new-data-set", methods=["GET", "POST"])
@page("Create a data set; its token is shown once", 400, 409)
def create() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("data_sets/form.html", values=forms.form_values(None), config=None)
    try:
        config, token = services().registry.create(forms.config_body(request.form, creating=True))
    except BackdropError as error:
        values = forms.submitted_values(request.form)
        page = render_template("data_sets/form.html", values=values, config=None, error=error)
        return page, error.status
    return render_template("data_sets/token.html", config=config, token=token, created=True)


def _existing(name: str) -> DataSetConfig:
    return services().registry.get(name)  # NotFound → 404 page


@blueprint.route("/data-sets/<name>/edit", methods=["GET", "POST"])
@page("Change a data set's config", 400, 404, 409)
def edit(name: str) -> Response | str | tuple[str, int]:
    config = _existing(name)
    if request.method == "GET":
        return render_template(
            "data_sets/form.html", values=forms.form_values(config), config=config
        )
    try:
        services().registry.update(name, forms.config_body(request.form, creating=False))
    except BackdropError as error:
        values = forms.submitted_values(request.form)
        page = render_template("data_sets/form.html", values=values, config=config, error=error)
        return page, error.status
    flash(f"Saved the settings of {name}.")
    return redirect(url_for("data_set.show", name=name))


@blueprint.post("/data-sets/<name>/token")
@page("Rotate a data set's bearer token; the new one is shown once", 400, 404)
def rotate_token(name: str) -> str:
    config = _existing(name)
    token = services().registry.rotate_token(name)
    return render_template("data_sets/token.html", config=config, token=token, created=False)


@blueprint.route("/data-sets/<name>/delete", methods=["GET", "POST"])
@page("Delete a data set after typing its name", 400, 404)
def delete(name: str) -> Response | str | tuple[str, int]:
    config = _existing(name)
    records = services().engine.records.count(name)
    if request.method == "GET":
        return render_template("data_sets/delete.html", config=config, records=records)
    typed = request.form.get("confirm_name", "").strip()
    if typed != name:
        error = BadRequest(
            f"To delete, type the data set's name exactly: {name}",
            detail=f"you typed {typed!r}" if typed else "the box was empty",
        )
        page = render_template("data_sets/delete.html", config=config, records=records, error=error)
        return page, 400
    services().registry.delete(name)  # its records and transforms too
    flash(f"Deleted {name} and its {records} records.")
    return redirect(url_for("data_sets.index"))
