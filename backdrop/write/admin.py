"""Admin API (SPEC 6): data-set configs and tokens, behind BACKDROP_ADMIN_TOKEN."""

from __future__ import annotations

from flask import Blueprint, jsonify

from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation
from backdrop.write.auth import require_admin
from backdrop.write.request import read_json

blueprint = Blueprint("admin", __name__)
blueprint.before_request(require_admin)

ADMIN_ERRORS = {401: "Unauthorized", 403: "Forbidden", 503: "Unavailable"}
BODY_ERRORS = {400: "BadRequest", 413: "PayloadTooLarge", 415: "UnsupportedEncoding"}


def _admin_operation(summary: str, responses: dict, **kwargs):
    return operation(
        summary,
        tag="admin",
        auth="adminToken",
        responses={**ADMIN_ERRORS, **responses},
        **kwargs,
    )


def _body():
    return read_json(services().settings.max_body_bytes)


@blueprint.post("/data-sets")
@_admin_operation(
    "Create a data set; the answer holds its bearer token, this once",
    {201: Success("created", "CreatedDataSet"), 409: "Conflict", **BODY_ERRORS},
    body="NewDataSet",
)
def create():
    config, token = services().registry.create(_body())
    response = jsonify({**config.public(), "bearer_token": token})
    response.status_code = 201
    return response


@blueprint.get("/data-sets")
@_admin_operation(
    "Every data set's config (never tokens)",
    {
        200: Success(
            "configs", {"type": "array", "items": {"$ref": "#/components/schemas/DataSetConfig"}}
        )
    },
)
def list_data_sets():
    return jsonify([config.public() for config in services().registry.list()])


@blueprint.get("/data-sets/<name>")
@_admin_operation(
    "One data set's config", {200: Success("the config", "DataSetConfig"), 404: "NotFound"}
)
def show(name: str):
    return jsonify(services().registry.get(name).public())


@blueprint.patch("/data-sets/<name>")
@_admin_operation(
    "Change config fields",
    {
        200: Success("the new config", "DataSetConfig"),
        404: "NotFound",
        409: "Conflict",
        **BODY_ERRORS,
    },
    body="DataSetChanges",
)
def update(name: str):
    return jsonify(services().registry.update(name, _body()).public())


@blueprint.post("/data-sets/<name>/token")
@_admin_operation(
    "Replace the data set's bearer token; the answer holds it, this once",
    {200: Success("the new token", "Token"), 404: "NotFound", 409: "Conflict"},
)
def rotate_token(name: str):
    token = services().registry.rotate_token(name)
    return jsonify({"name": name, "bearer_token": token})


@blueprint.delete("/data-sets/<name>")
@_admin_operation(
    "Delete the data set and all its records",
    {200: Success("deleted", "Ok"), 404: "NotFound"},
)
def delete(name: str):
    services().registry.delete(name)
    return jsonify({"status": "ok", "message": f"Deleted {name}"})
