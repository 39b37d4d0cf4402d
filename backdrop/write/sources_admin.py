"""Admin routes for a data set's sources (SPEC 12)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from backdrop.core.sources import manage
from backdrop.core.sources.store import Sources
from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation
from backdrop.write.admin import ADMIN_ERRORS, BODY_ERRORS
from backdrop.write.auth import require_admin
from backdrop.write.request import read_json

blueprint = Blueprint("sources_admin", __name__)
blueprint.before_request(require_admin)


def _array(schema: str) -> dict[str, object]:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{schema}"}}


@blueprint.get("/data-sets/<name>/sources")
@operation(
    "The data set's sources, each with its last run",
    tag="sources",
    auth="adminToken",
    responses={200: Success("sources", _array("Source")), 404: "NotFound", **ADMIN_ERRORS},
)
def list_sources(name: str):
    return jsonify(manage.list_for(services().engine, name))


@blueprint.post("/data-sets/<name>/sources")
@operation(
    "Add a source: a file fetched over HTTP on a schedule into this data set",
    tag="sources",
    auth="adminToken",
    body="NewSource",
    responses={201: Success("added", "Source"), 404: "NotFound", **ADMIN_ERRORS, **BODY_ERRORS},
)
def add_source(name: str):
    body = read_json(services().settings.max_body_bytes)
    response = jsonify(manage.add(services().engine, name, body).body())
    response.status_code = 201
    return response


@blueprint.delete("/data-sets/<name>/sources/<source_id>")
@operation(
    "Remove a source and its run history (the records it stored stay)",
    tag="sources",
    auth="adminToken",
    responses={200: Success("removed", "Ok"), 404: "NotFound", **ADMIN_ERRORS},
)
def remove_source(name: str, source_id: str):
    manage.remove(services().engine, name, source_id)
    return jsonify({"status": "ok", "message": f"Deleted source {source_id} of {name}"})


@blueprint.get("/data-sets/<name>/sources/<source_id>/runs")
@operation(
    "The source's runs, newest first",
    tag="sources",
    auth="adminToken",
    responses={200: Success("runs", _array("SourceRun")), 404: "NotFound", **ADMIN_ERRORS},
)
def source_runs(name: str, source_id: str):
    manage.of(services().engine, name, source_id)
    return jsonify(Sources(services().engine).history(source_id))
