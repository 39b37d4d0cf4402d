"""Admin routes for a data set's transforms (SPEC 6, 7)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from backdrop.transformers import config
from backdrop.web.extension import services
from backdrop.write.auth import require_admin
from backdrop.write.request import read_json

blueprint = Blueprint("transforms_admin", __name__)
blueprint.before_request(require_admin)


@blueprint.get("/data-sets/<name>/transforms")
def list_transforms(name: str):
    return jsonify(config.list_for(services().engine, name))


@blueprint.post("/data-sets/<name>/transforms")
def add_transform(name: str):
    body = read_json(services().settings.max_body_bytes)
    response = jsonify(config.add(services().engine, name, body))
    response.status_code = 201
    return response


@blueprint.delete("/data-sets/<name>/transforms/<transform_id>")
def remove_transform(name: str, transform_id: str):
    config.remove(services().engine, name, transform_id)
    return jsonify({"status": "ok", "message": f"Deleted transform {transform_id} of {name}"})
