"""Upload a file to a data set in steps: choose (or drop) it → verify (the dry
run of SPEC 8: columns, new and missing ones, the first rows, every problem
with its row) → confirm → stored, recorded in the upload history.

The page's script sends the file with a progress bar and is answered with
the verify page's address; without the script the form posts as usual and
is redirected there.
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from backdrop.admin import staging
from backdrop.admin.auth import ACTOR
from backdrop.admin.declare import page
from backdrop.admin.errors import SCRIPTED_HEADER
from backdrop.core import uploads
from backdrop.core.files import FORMATS
from backdrop.core.upload_columns import compared, existing_fields
from backdrop.errors import BackdropError, BadRequest, PayloadTooLarge
from backdrop.web.extension import services

blueprint = Blueprint("upload", __name__)


def scripted() -> bool:
    return request.headers.get(SCRIPTED_HEADER) == "1"


@blueprint.route("/data-sets/<name>/upload", methods=["GET", "POST"])
@page("Choose a file to upload; sending it leads to the verify step", 400, 404, 413)
def choose(name: str) -> Response | str:
    config = services().registry.get(name)
    if request.method == "GET":
        limit = services().settings.max_upload_bytes
        return render_template(
            "upload/choose.html", config=config, formats=FORMATS, max_bytes=limit
        )
    limit = services().settings.max_upload_bytes
    try:
        part = request.files.get("file")
    except RequestEntityTooLarge:
        raise PayloadTooLarge(f"The file is over the upload limit of {limit:,} bytes") from None
    if part is None or not part.filename:
        raise BadRequest(
            "Choose a file to upload", detail="CSV, Excel (.xlsx, .xls), JSON or JSON Lines"
        )
    file_format = request.form.get("format") or None
    if file_format is not None and file_format not in FORMATS:
        raise BadRequest(
            f"format must be one of {', '.join(FORMATS)}, or empty to judge by content"
        )
    staged = staging.stage(config, part, request.form.get("sheet", "").strip(), file_format)
    verify_url = url_for("upload.verify", name=name, staged_id=staged.id)
    if scripted():
        return jsonify({"next": verify_url})
    return redirect(verify_url, code=303)


@blueprint.get("/data-sets/<name>/upload/<staged_id>")
@page("Verify a chosen file (a dry run): columns, sample rows, every problem", 400, 404, 413)
def verify(name: str, staged_id: str) -> str | tuple[str, int]:
    backdrop = services()
    config = backdrop.registry.get(name)
    staged = staging.find(config, staged_id)
    upload = staging.upload_of(config, staged, backdrop.settings)
    try:
        checked = uploads.check(config, upload)
    except BackdropError as error:
        page_html = render_template("upload/verify.html", config=config, staged=staged, error=error)
        return page_html, error.status
    columns = compared(checked.columns, existing_fields(backdrop.engine, config.name))
    return render_template(
        "upload/verify.html",
        config=config,
        staged=staged,
        checked=checked,
        columns=checked.columns.described(),
        sample_columns=list(dict.fromkeys(k for record in checked.sample for k in record)),
        **columns,
    )


@blueprint.post("/data-sets/<name>/upload/<staged_id>")
@page("Confirm a verified file: store its records (all or nothing)", 400, 404, 413)
def confirm(name: str, staged_id: str) -> Response:
    backdrop = services()
    config = backdrop.registry.get(name)
    staged = staging.find(config, staged_id)
    entry = uploads.store(
        backdrop.engine,
        backdrop.dispatcher,
        config,
        staging.upload_of(config, staged, backdrop.settings),
        uploaded_by=ACTOR,
        batch_size=backdrop.settings.upload_batch_size,
    )
    staging.discard(staged)
    flash(f"Stored {entry['records']:,} records from {staged.filename}.")
    return redirect(url_for("data_set.show", name=name), code=303)
