"""Sign in with the admin token; sign out."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backdrop.admin import auth
from backdrop.admin.declare import page

blueprint = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


@blueprint.route("/sign-in", methods=["GET", "POST"])
@page("Sign in with the admin token", 400, 401, 403)
def sign_in() -> Response | tuple[str, int] | str:
    next_page = auth.safe_next(request.values.get("next"))
    if not auth.enabled():
        return render_template("sign_in.html", disabled=True, next_page=None), 403
    if request.method == "GET":
        if auth.signed_in():
            return redirect(next_page or url_for("data_sets.index"))
        return render_template("sign_in.html", next_page=next_page)
    if auth.sign_in(request.form.get("token", "")):
        log.info("web UI sign-in", extra={"remote_addr": request.remote_addr})
        return redirect(next_page or url_for("data_sets.index"))
    log.info("web UI sign-in refused", extra={"remote_addr": request.remote_addr})
    error = "That is not the admin token. Check BACKDROP_ADMIN_TOKEN and try again."
    return render_template("sign_in.html", next_page=next_page, error=error), 401


@blueprint.post("/sign-out")
@page("Sign out: end the session", 400)
def sign_out() -> Response:
    auth.sign_out()
    return redirect(url_for("auth.sign_in"))
