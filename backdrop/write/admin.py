"""Admin API (SPEC 6): data-set configs and tokens, behind BACKDROP_ADMIN_TOKEN."""

from __future__ import annotations

from flask import Blueprint, jsonify

from backdrop.web.extension import services
from backdrop.write.auth import require_admin
from backdrop.write.request import read_json

blueprint = Blueprint("admin", __name__)
blueprint.before_request(require_admin)


def _body():
    return read_json(services().settings.max_body_bytes)


@blueprint.post("/data-sets")
def create():
    config, token = services().registry.create(_body())
    response = jsonify({**config.public(), "bearer_token": token})
    response.status_code = 201
    return response


@blueprint.get("/data-sets")
def list_data_sets():
    return jsonify([config.public() for config in services().registry.list()])


@blueprint.get("/data-sets/<name>")
def show(name: str):
    return jsonify(services().registry.get(name).public())


@blueprint.patch("/data-sets/<name>")
def update(name: str):
    return jsonify(services().registry.update(name, _body()).public())


@blueprint.post("/data-sets/<name>/token")
def rotate_token(name: str):
    token = services().registry.rotate_token(name)
    return jsonify({"name": name, "bearer_token": token})


@blueprint.delete("/data-sets/<name>")
def delete(name: str):
    services().registry.delete(name)
    return jsonify({"status": "ok", "message": f"Deleted {name}"})
