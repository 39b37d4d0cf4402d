"""Dashboard routes of the write app (SPEC 11), all behind the admin token
(the open ``GET /dashboards/schema`` is backdrop.web.dashboards')."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from backdrop.core.dashboards import spotlight
from backdrop.errors import BadRequest
from backdrop.web.dashboards import dashboards
from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation
from backdrop.write.admin import ADMIN_ERRORS, BODY_ERRORS
from backdrop.write.auth import require_admin
from backdrop.write.request import read_json

blueprint = Blueprint("dashboards", __name__)
DASHBOARD = Success("the dashboard", "Dashboard")
WRITE_ERRORS = {404: "NotFound", 409: "Conflict", 503: "Unavailable", **ADMIN_ERRORS}
FORMATS = ("backdrop", "spotlight")


@blueprint.before_request
def _guard() -> None:
    require_admin()


def _operation(summary: str, responses: dict, **kwargs):
    return operation(summary, tag="dashboards", auth="adminToken", responses=responses, **kwargs)


def _body():
    return read_json(services().settings.max_body_bytes)


@blueprint.post("/dashboards")
@_operation(
    "Create a dashboard (format=spotlight: import a Stagecraft/Spotlight one)",
    {201: DASHBOARD, 507: "InsufficientStorage", **WRITE_ERRORS, **BODY_ERRORS},
    body="NewDashboard",
)
def create():
    kind = request.args.get("format", "backdrop")
    if kind not in FORMATS:
        raise BadRequest(f"Unknown format {kind!r}", detail="format is backdrop or spotlight")
    body = _body()
    if kind == "spotlight":
        converted = spotlight.convert(body, dashboards().registry)
        created = dashboards().create(converted.dashboard, converted.id)
        created["unknown_module_types"] = converted.unknown
    else:
        created = dashboards().create(body)
    response = jsonify(created)
    response.status_code = 201
    return response


@blueprint.get("/dashboards")
@_operation(
    "Every dashboard: id, title, updated, size, flags",
    {
        200: Success(
            "dashboards",
            {"type": "array", "items": {"$ref": "#/components/schemas/DashboardSummary"}},
        ),
        **ADMIN_ERRORS,
    },
)
def list_dashboards():
    return jsonify(dashboards().list())


@blueprint.get("/dashboards/usage")
@_operation(
    "Bytes and number of dashboards stored, against the quota",
    {200: Success("usage", {"type": "object"}), **ADMIN_ERRORS},
)
def usage():
    limits = dashboards().limits
    return jsonify(
        {
            **dashboards().usage(),
            "quota_bytes": limits.quota_bytes,
            "eviction_threshold": limits.threshold,
            "target_utilization": limits.target,
        }
    )


@blueprint.get("/dashboards/<dashboard_id>")
@_operation(
    "One dashboard (a use, for eviction)", {200: DASHBOARD, 404: "NotFound", **ADMIN_ERRORS}
)
def show(dashboard_id: str):
    return jsonify(dashboards().fetch(dashboard_id))


@blueprint.patch("/dashboards/<dashboard_id>")
@_operation(
    "Change title, description, published or tiles; 403 if protected",
    {200: DASHBOARD, 507: "InsufficientStorage", **WRITE_ERRORS, **BODY_ERRORS},
    body="NewDashboard",
)
def update(dashboard_id: str):
    return jsonify(dashboards().update(dashboard_id, _body()))


@blueprint.delete("/dashboards/<dashboard_id>")
@_operation("Delete a dashboard; 403 if protected", {200: Success("deleted", "Ok"), **WRITE_ERRORS})
def delete(dashboard_id: str):
    dashboards().delete(dashboard_id)
    return jsonify({"status": "ok", "message": f"Deleted dashboard {dashboard_id}"})


def _flag(summary: str, flag: str, value: bool):
    def view(dashboard_id: str):
        return jsonify(dashboards().set_flags(dashboard_id, **{flag: value}))

    view.__name__ = f"{'set' if value else 'clear'}_{flag}"
    return _operation(summary, {200: DASHBOARD, **WRITE_ERRORS})(view)


for method, value in (("POST", True), ("DELETE", False)):
    blueprint.add_url_rule(
        "/dashboards/<dashboard_id>/whitelist",
        view_func=_flag(
            "Exempt from eviction" if value else "Return to eviction", "whitelisted", value
        ),
        methods=[method],
    )
    blueprint.add_url_rule(
        "/dashboards/<dashboard_id>/protect",
        view_func=_flag(
            "Make read-only (and whitelisted)" if value else "Make writable (whitelist unchanged)",
            "protected",
            value,
        ),
        methods=[method],
    )
