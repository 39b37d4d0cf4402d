"""Record write routes (SPEC 4): POST/PUT a data set, PATCH/DELETE a record,
trigger transforms, and the legacy write by name."""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.routing import BaseConverter

from backdrop.core import writes
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.names import NAME_PATTERN
from backdrop.errors import BadRequest, NotFound
from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation
from backdrop.write.auth import require_token
from backdrop.write.request import read_json

blueprint = Blueprint("records", __name__)


class DataSetName(BaseConverter):
    """Only what could be a data-set name, so the legacy ``POST /<name>`` never
    shadows fixed paths such as ``/_status`` (which then answer 405)."""

    regex = NAME_PATTERN.pattern.strip("^$")


blueprint.record_once(lambda state: state.app.url_map.converters.update(data_set_name=DataSetName))

BODY_ERRORS = {
    400: "BadRecords",
    401: "Unauthorized",
    404: "NotFound",
    413: "PayloadTooLarge",
    415: "UnsupportedEncoding",
    503: "Unavailable",
}
OK = {200: Success("done", "Ok")}


def _write_operation(summary: str, body: str, **kwargs):
    return operation(
        summary,
        tag="write",
        body=body,
        auth="dataSetToken",
        responses={**OK, **BODY_ERRORS},
        **kwargs,
    )


DEPRECATION = (
    "Deprecation Warning: accessing by data-set name is deprecated, "
    "Please use the /data-group/data-type form"
)


def _data_set(data_group: str, data_type: str) -> DataSetConfig:
    """The authorised data set at this address: 404 before 401, as SPEC 4 orders them."""
    config = services().registry.find(data_group, data_type)
    if config is None:
        raise NotFound(f"There is no data set at /data/{data_group}/{data_type}")
    require_token(config)
    return config


def _body():
    return read_json(services().settings.max_body_bytes, exact_integers=True)


def _save(config: DataSetConfig) -> None:
    s = services()
    body = _body()
    writes.save(s.engine, s.dispatcher, config, body, max_records=s.settings.max_batch_records)


@blueprint.post("/data/<data_group>/<data_type>")
@_write_operation(
    "Store one record or a batch (all or nothing)",
    "Records",
    description="Records with an existing _id replace it; the data set's transforms then run "
    "over the batch's time range.",
)
def write(data_group: str, data_type: str):
    _save(_data_set(data_group, data_type))
    return jsonify({"status": "ok"})


@blueprint.put("/data/<data_group>/<data_type>")
@_write_operation("Empty the data set (the body must be [])", "EmptyList")
def replace(data_group: str, data_type: str):
    config = _data_set(data_group, data_type)
    if _body() != []:
        raise BadRequest("Not implemented: you can only pass an empty JSON list")
    writes.empty(services().engine, config)
    return jsonify({"status": "ok", "message": f"{config.name} now contains 0 records"})


@blueprint.post("/data/<data_group>/<data_type>/transform")
@_write_operation("Run the data set's transforms over a time range", "Range")
def transform(data_group: str, data_type: str):
    config = _data_set(data_group, data_type)
    writes.trigger(services().dispatcher, config, _body())
    return jsonify({"status": "ok"})


@blueprint.patch("/data/<data_group>/<data_type>/<path:record_id>")
@_write_operation("Merge fields into one record (re-validated)", "Record")
def patch_record(data_group: str, data_type: str, record_id: str):
    config = _data_set(data_group, data_type)
    s = services()
    writes.patch(s.engine, s.dispatcher, config, record_id, _body())
    return jsonify({"status": "ok"})


@blueprint.delete("/data/<data_group>/<data_type>/<path:record_id>")
@operation(
    "Delete one record",
    tag="write",
    auth="dataSetToken",
    responses={**OK, 401: "Unauthorized", 404: "NotFound", 503: "Unavailable"},
)
def delete_record(data_group: str, data_type: str, record_id: str):
    config = _data_set(data_group, data_type)
    s = services()
    writes.delete(s.engine, s.dispatcher, config, record_id)
    return jsonify({"status": "ok"})


@blueprint.post("/<data_set_name:name>")
@_write_operation("Store records by data-set name (deprecated address)", "Records")
def legacy_write(name: str):
    config = services().registry.find_by_name(name)
    if config is None:
        raise NotFound(f"There is no data set named '{name}'")
    require_token(config)
    _save(config)
    return jsonify({"status": "ok", "message": DEPRECATION})
