"""File upload routes (SPEC 8): ``POST …/upload`` (``?dry_run=true``), ``GET …/uploads``.

The file arrives as the multipart field ``file``; werkzeug spools it to disk
past 500 KB, and both passes of ``backdrop.core.uploads`` read it from there.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from backdrop.core import uploads
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.files import FORMATS
from backdrop.core.parameters import BOOLEAN, Parameter
from backdrop.errors import BadRequest, NotFound, PayloadTooLarge
from backdrop.web.extension import services
from backdrop.web.openapi import Success, operation
from backdrop.web.schemas import ref
from backdrop.write.auth import require_token

blueprint = Blueprint("uploads", __name__)

MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file itself
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no", "")


UPLOAD_PARAMETERS = (
    Parameter("dry_run", "true: parse and validate only, store nothing", BOOLEAN),
    Parameter("sheet", "the workbook sheet to read (default: the first)"),
    Parameter(
        "format",
        "the format the file must be in (default: judged from its content and name)",
        {"type": "string", "enum": [*FORMATS, "excel"]},
    ),
)


def _data_set(data_group: str, data_type: str) -> DataSetConfig:
    config = services().registry.find(data_group, data_type)
    if config is None:
        raise NotFound(f"There is no data set at /data/{data_group}/{data_type}")
    require_token(config)
    return config


def _dry_run() -> bool:
    value = request.args.get("dry_run", "").strip().lower()
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise BadRequest(f"dry_run must be true or false, not '{value}'")


def _file() -> FileStorage:
    limit = services().settings.max_upload_bytes
    request.max_content_length = limit + MULTIPART_SLACK
    try:
        part = request.files.get("file")
    except RequestEntityTooLarge:
        raise PayloadTooLarge(f"the file is over the upload limit of {limit} bytes") from None
    if part is None:
        raise BadRequest(
            "Expected a multipart/form-data body with the file in the field 'file'",
            detail="e.g. curl -F file=@data.csv -H 'Authorization: Bearer …' …/upload",
        )
    return part


def _upload(config: DataSetConfig, part: FileStorage) -> uploads.Upload:
    return uploads.from_stream(
        part.stream,  # type: ignore[arg-type]
        part.filename,
        config,
        services().settings,
        sheet=request.args.get("sheet"),
        format=request.args.get("format"),
    )


@blueprint.post("/data/<data_group>/<data_type>/upload")
@operation(
    "Upload a CSV, Excel, JSON or JSON Lines file (all or nothing)",
    tag="write",
    description="Multipart field `file`. With dry_run=true the answer is the DryRun shape and "
    "nothing is stored. A bad file is a 400 naming the row and column.",
    query=UPLOAD_PARAMETERS,
    body="FileUpload",
    body_type="multipart/form-data",
    auth="dataSetToken",
    responses={
        200: Success(
            "stored (or, for a dry run, checked)",
            {
                "oneOf": [
                    ref("Uploaded"),
                    ref("DryRun"),
                ]
            },
        ),
        400: "BadRecords",
        401: "Unauthorized",
        404: "NotFound",
        413: "FileTooLarge",
        503: "Unavailable",
    },
)
def upload(data_group: str, data_type: str):
    config = _data_set(data_group, data_type)
    dry_run = _dry_run()
    upload = _upload(config, _file())
    s = services()
    if dry_run:
        return jsonify(uploads.dry_run(s.engine, config, upload))
    entry = uploads.store(
        s.engine,
        s.dispatcher,
        config,
        upload,
        uploaded_by=f"data-set token (hash {config.token_hash[:8]}…)",
        batch_size=s.settings.upload_batch_size,
    )
    return jsonify(
        {
            "status": "ok",
            "message": f"{config.name} stored {entry['records']} records from the file",
            "upload": entry,
        }
    )


@blueprint.get("/data/<data_group>/<data_type>/uploads")
@operation(
    "The data set's upload history, newest first",
    tag="write",
    auth="dataSetToken",
    responses={
        200: Success("the uploads", "Uploads"),
        401: "Unauthorized",
        404: "NotFound",
        503: "Unavailable",
    },
)
def history(data_group: str, data_type: str):
    config = _data_set(data_group, data_type)
    return jsonify({"status": "ok", "uploads": uploads.history(services().engine, config)})
