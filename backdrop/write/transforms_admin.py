"""Admin routes for a data set's transforms (SPEC 6, 7)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from backdrop.transformers import config
from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation
from backdrop.write.admin import ADMIN_ERRORS, BODY_ERRORS
from backdrop.write.auth import require_admin
from backdrop.write.request import read_json

blueprint = Blueprint("transforms_admin", __name__)
blueprint.before_request(require_admin)


@blueprint.get("/data-sets/<name>/transforms")
@operation(
    "The data set's transforms",
    tag="transforms",
    auth="adminToken",
    responses={
        200: Success(
            "transforms", {"type": "array", "items": {"$ref": "#/components/schemas/Transform"}}
        ),
        404: "NotFound",
        **ADMIN_ERRORS,
    },
)
def list_transforms(name: str):
    return jsonify(config.list_for(services().engine, name))


@blueprint.post("/data-sets/<name>/transforms")
@operation(
    "Add a transform writing into another data set (created on first use)",
    tag="transforms",
    auth="adminToken",
    body="NewTransform",
    responses={201: Success("added", "Transform"), 404: "NotFound", **ADMIN_ERRORS, **BODY_ERRORS},
)
def add_transform(name: str):
    body = read_json(services().settings.max_body_bytes)
    response = jsonify(config.add(services().engine, name, body))
    response.status_code = 201
    return response


@blueprint.delete("/data-sets/<name>/transforms/<transform_id>")
@operation(
    "Remove a transform",
    tag="transforms",
    auth="adminToken",
    responses={200: Success("removed", "Ok"), 404: "NotFound", **ADMIN_ERRORS},
)
def remove_transform(name: str, transform_id: str):
    config.remove(services().engine, name, transform_id)
    return jsonify({"status": "ok", "message": f"Deleted transform {transform_id} of {name}"})
