"""JSON Schemas of the API's bodies, for the OpenAPI document (SPEC 2–7, 14).

Named here once and referenced from operations by name; the schemathesis run
in the test suite checks every response the apps send against them.
"""

from __future__ import annotations

from typing import Any

from backdrop.core.names import NAME_PATTERN

STRING = {"type": "string"}
NAME = {"type": "string", "pattern": NAME_PATTERN.pattern}
VALUE = {"type": ["string", "number", "boolean", "null"]}
STRINGS = {"type": "array", "items": STRING}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


CONFIG_FIELDS: dict[str, Any] = {
    "data_group": NAME,
    "data_type": NAME,
    "raw_queries_allowed": {"type": "boolean"},
    "queryable": {"type": "boolean"},
    "published": {"type": "boolean"},
    "realtime": {"type": "boolean"},
    "max_age_expected": {"type": ["integer", "null"], "minimum": 0},
    "capped_size": {"type": ["integer", "null"], "minimum": 0},
    "schema": {"type": ["object", "null"]},
    "auto_ids": {"type": ["array", "null"], "items": STRING},
    "upload_format": {"type": "string"},
    "upload_filters": STRINGS,
    "dimensions": {
        "type": ["array", "null"],
        "items": {"oneOf": [STRING, {"type": "array", "items": STRING, "minItems": 1}]},
        "maxItems": 16,
        "description": "rollup groups: a field, or up to 4 fields kept together",
    },
    "measures": {"type": ["array", "null"], "items": STRING, "maxItems": 16},
    "rollup_grain": {"enum": ["day", "hour"]},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        **obj(
            ("status", "message"),
            status={"const": "error"},
            message=STRING,
            detail={**STRING, "description": "what exactly was wrong and what is allowed"},
            request_id={**STRING, "description": "on 5xx: the id to quote to the operator"},
        ),
    },
    "InvalidRecords": obj(
        ("status", "messages"),
        status={"const": "error"},
        messages={**STRINGS, "description": "every problem of the batch, by record"},
        detail=STRING,
    ),
    "Ok": obj(("status",), status={"const": "ok"}, message=STRING),
    "Record": {
        "type": "object",
        "description": "a flat object; keys match ^[a-z_][a-z0-9_]+$ in any case",
        "additionalProperties": VALUE,
    },
    "EmptyList": {"type": "array", "maxItems": 0, "description": "exactly []"},
    "Records": {"oneOf": [ref("Record"), {"type": "array", "items": ref("Record")}]},
    "FileUpload": obj(
        ("file",), file={"type": "string", "format": "binary", "description": "the file"}
    ),
    "Range": obj(
        ("_start_at",),
        _start_at={**STRING, "description": "ISO 8601"},
        _end_at={**STRING, "description": "ISO 8601; default now"},
    ),
    "DataSetConfig": obj(tuple(["name", *CONFIG_FIELDS]), name=NAME, **CONFIG_FIELDS),
    "NewDataSet": {
        **obj(("name",), name=NAME, bearer_token=STRING, **CONFIG_FIELDS),
        "additionalProperties": False,
    },
    "CreatedDataSet": {
        "allOf": [ref("DataSetConfig"), obj(("bearer_token",), bearer_token=STRING)]
    },
    "DataSetChanges": {**obj(**CONFIG_FIELDS), "additionalProperties": False},
    "Token": obj(("name", "bearer_token"), name=NAME, bearer_token=STRING),
    "NewTransform": obj(
        ("type", "output"),
        type=STRING,
        query={"type": "object", "description": "read parameters, as in SPEC 5.1"},
        options={"type": "object"},
        output=obj(("data_group", "data_type"), data_group=NAME, data_type=NAME),
    ),
    "Transform": {"allOf": [ref("NewTransform"), obj(("id",), id=STRING)]},
    "QueryResult": obj(
        ("data",),
        data={"type": "array", "items": {"type": "object"}},
        warning={**STRING, "description": "present when the data set is unpublished"},
    ),
    "ExportPage": {
        **obj(
            ("next",),
            results={"type": "array", "items": {"type": "object"}},
            headers=STRINGS,
            values={"type": "array", "items": {"type": "array"}},
            next={"type": ["string", "null"], "description": "the next page's URL; null: last"},
            warning={**STRING, "description": "present when the data set is unpublished"},
        ),
        "description": "orientation=records: results; orientation=tabular: headers and values",
    },
    "NewSource": obj(
        ("url", "format", "schedule"),
        url={**STRING, "description": "http:// or https://"},
        format={"enum": ["csv", "xlsx", "json", "jsonl"]},
        schedule={**STRING, "description": "cron (UTC) such as 0 2 * * *, or every 15m"},
        records_path={"type": ["string", "null"], "description": "JSON Pointer, format json"},
        headers={
            "type": "object",
            "additionalProperties": STRING,
            "description": "values env:VAR are read from the worker's environment",
        },
        mapping=obj(rename={"type": "object", "additionalProperties": STRING}, drop=STRINGS),
        mode={"enum": ["append", "replace"]},
    ),  # fmt: skip
    "Source": {"allOf": [ref("NewSource"), obj(("id", "data_set"), id=STRING, data_set=NAME)]},
    "SourceRun": obj(
        ("id", "source", "status", "started_at"),
        id=STRING,
        source=STRING,
        data_set=NAME,
        status={"enum": ["ok", "unchanged", "failed"]},
        started_at=STRING,
        finished_at=STRING,
        http_status={"type": ["integer", "null"]},
        bytes={"type": "integer"},
        records={"type": "integer"},
        error={"type": ["string", "null"]},
    ),
    "SourcesStatus": obj(
        ("status", "sources", "message"),
        status={"enum": ["ok", "not okay"]},
        sources={"type": ["array", "null"], "items": {"type": "object"}},
        message=STRING,
    ),
    "Status": obj(("status", "message"), status=STRING, message=STRING),
    "Freshness": obj(
        ("status", "data_sets", "message"),
        status={"enum": ["ok", "not okay"]},
        data_sets={"type": ["array", "null"], "items": {"type": "object"}},
        message=STRING,
    ),
    # Dashboards (SPEC 11); GET /dashboards/schema serves the full JSON Schema
    "NewDashboard": obj(
        ("title", "tiles"),
        title=STRING,
        description=STRING,
        published={"type": "boolean"},
        tiles={"type": "array", "items": {"type": "object"}},
    ),
    "DashboardSummary": obj(
        ("id", "title", "updated", "size", "published", "whitelisted", "protected", "version"),
        id=STRING,
        title=STRING,
        updated={**STRING, "description": "ISO 8601"},
        last_fetched={"type": ["string", "null"], "description": "ISO 8601, coarse (10 min)"},
        size={"type": "integer", "description": "bytes of its compact JSON"},
        published={"type": "boolean"},
        whitelisted={"type": "boolean"},
        protected={"type": "boolean"},
        version={"type": "integer"},
    ),
    "Dashboard": {
        "allOf": [
            ref("DashboardSummary"),
            obj(("description", "tiles"), description=STRING, tiles={"type": "array"}),
        ]
    },
    "Index": obj(
        ("name", "version", "links"),
        name=STRING,
        version=STRING,
        links={"type": "object", "additionalProperties": STRING},
    ),
    # Uploads (SPEC 8)
    "Upload": obj(
        ("data_set", "uploaded_at", "bytes", "sha256", "records", "uploaded_by"),
        data_set=NAME,
        uploaded_at=STRING,
        filename={"type": ["string", "null"]},
        sheet={"type": ["string", "null"]},
        bytes={"type": "integer"},
        sha256=STRING,
        records={"type": "integer"},
        uploaded_by=STRING,
        start_at={"type": ["string", "null"]},
        end_at={"type": ["string", "null"]},
    ),
    "Uploaded": obj(
        ("status", "upload"), status={"const": "ok"}, message=STRING, upload=ref("Upload")
    ),
    "DryRun": obj(
        ("status", "records", "columns", "sample", "new_columns", "missing_columns"),
        status={"const": "ok"},
        records={"type": "integer"},
        columns={
            "type": "array",
            "items": obj(
                ("name", "type", "empty"), name=STRING, type=STRING, empty={"type": "integer"}
            ),
        },
        sample={"type": "array", "items": {"type": "object"}},
        new_columns=STRINGS,
        missing_columns=STRINGS,
    ),
    "Uploads": obj(
        ("status", "uploads"),
        status={"const": "ok"},
        uploads={"type": "array", "items": ref("Upload")},
    ),
}


def error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


# Error responses operations name by key (``responses={401: "Unauthorized"}``).
RESPONSES: dict[str, Any] = {
    "BadRequest": error("the request is malformed; message and detail say how"),
    "BadRecords": {
        "description": "the body or its records are invalid; nothing was stored",
        "content": {
            "application/json": {"schema": {"oneOf": [ref("Error"), ref("InvalidRecords")]}}
        },
    },
    "Unauthorized": {
        **error("no, malformed or wrong bearer token"),
        "headers": {"WWW-Authenticate": {"schema": {"const": "bearer"}}},
    },
    "Forbidden": error("the admin API is disabled (BACKDROP_ADMIN_TOKEN unset)"),
    "NotFound": error("no such data set, record or transform"),
    "Conflict": error("the name or data_group/data_type is taken, or changed meanwhile"),
    "PayloadTooLarge": error("the body is over BACKDROP_MAX_BODY_BYTES, also once decompressed"),
    "FileTooLarge": error(
        "the file is over BACKDROP_MAX_UPLOAD_BYTES or BACKDROP_MAX_UPLOAD_ROWS, or an .xlsx "
        "would unzip past BACKDROP_MAX_UPLOAD_UNZIPPED_BYTES"
    ),
    "UnsupportedEncoding": error("a Content-Encoding other than gzip"),
    "InsufficientStorage": error("the dashboard quota is full and eviction cannot make room"),
    "Unavailable": error("the database cannot be reached; retry later"),
}
