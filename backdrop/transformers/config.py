"""Transform configs (SPEC 7): checked when added, stored by the engine.

A config is ``{"type", "query", "options", "output"}``. It is refused with a
400 unless its type is registered, its query parses as read parameters, its
options satisfy the transform (each function is dry-run on no rows) and its
output names a data-set address other than the source's.
"""

from __future__ import annotations

from typing import Any

from backdrop.audit import audit
from backdrop.core.catalog import Catalog
from backdrop.core.data_sets import Registry
from backdrop.core.names import KEY_PATTERN, KEY_RULE, NAME_PATTERN
from backdrop.core.storage.base import StorageEngine
from backdrop.errors import BadRequest, InvalidQuery, NotFound
from backdrop.transformers import registry, source

FIELDS = ("type", "query", "options", "output")
_SCALARS = (str, int, float, bool, type(None))


def _check_type(body: dict[str, Any]) -> registry.Transform:
    name = body.get("type")
    if not isinstance(name, str):
        raise BadRequest(f"type is required; registered types: {', '.join(registry.names())}")
    try:
        return registry.get(name)
    except registry.UnknownTransform as error:
        raise BadRequest(str(error)) from None


def _check_options(options: Any) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise BadRequest("options must be an object")
    additional = options.get("additionalFields")
    if additional is None:
        return options
    if not isinstance(additional, dict):
        raise BadRequest("options.additionalFields must be an object")
    for key, value in additional.items():
        if not KEY_PATTERN.fullmatch(key) or key.startswith("_"):
            raise BadRequest(
                f"options.additionalFields: {key} is not a valid key",
                detail=KEY_RULE + "; additional fields cannot start with _",
            )
        if not isinstance(value, _SCALARS):
            raise BadRequest(f"options.additionalFields: {key} has an invalid value")
    return options


def _check_output(output: Any) -> dict[str, str]:
    if not isinstance(output, dict) or set(output) != {"data_group", "data_type"}:
        raise BadRequest('output must be {"data_group": …, "data_type": …}')
    for key in ("data_group", "data_type"):
        if not isinstance(output[key], str) or not NAME_PATTERN.fullmatch(output[key]):
            raise BadRequest(f"output.{key} must match {NAME_PATTERN.pattern}")
    return {"data_group": output["data_group"], "data_type": output["data_type"]}


def validate(body: Any) -> dict[str, Any]:
    """The config to store, or BadRequest saying what is wrong with it."""
    if not isinstance(body, dict):
        raise BadRequest("Expected a JSON object describing the transform")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadRequest(f"Unknown transform fields: {', '.join(unknown)}")
    function = _check_type(body)
    query = body.get("query") or {}
    try:
        source.parse_query(query)
    except InvalidQuery as error:
        raise BadRequest(f"Invalid query: {error.message}", detail=error.detail) from None
    options = _check_options(body.get("options"))
    output = _check_output(body.get("output"))
    try:
        function([], options)
    except (ValueError, TypeError, KeyError) as error:
        raise BadRequest(f"Invalid options for {body['type']}: {error}") from None
    return {"type": body["type"], "query": query, "options": options, "output": output}


def output_name(output: dict[str, str]) -> str:
    """The name a transform's output data set is created with."""
    return f"{output['data_group']}_{output['data_type']}"


def _check_output_name(engine: StorageEngine, output: dict[str, str]) -> None:
    """An output data set still to be created must have a name the engine can
    hold (MongoDB bounds "<database>.<collection>"), or every run would fail."""
    longest = getattr(engine.records, "max_name_bytes", None)
    name = output_name(output)
    if longest is None or len(name.encode()) <= longest:
        return
    if Registry(engine).find(output["data_group"], output["data_type"]) is None:
        raise BadRequest(
            f"The output data set would be named {name[:40]}… ({len(name.encode())} bytes), "
            f"longer than the {longest} bytes this database can hold: "
            "use a shorter output data_group or data_type"
        )


def add(engine: StorageEngine, data_set: str, body: Any) -> dict[str, Any]:
    """Check and store a transform of ``data_set``; returns it with its id."""
    config = Registry(engine).get(data_set)
    transform = validate(body)
    if (transform["output"]["data_group"], transform["output"]["data_type"]) == (
        config.data_group,
        config.data_type,
    ):
        raise BadRequest("output must be another data set than the transform's source")
    _check_output_name(engine, transform["output"])
    transform_id = Catalog(engine).add_transform(data_set, transform)
    audit(
        "transform.add",
        f"added transform {transform_id} ({transform['type']}) to data set {data_set}",
        data_set=data_set,
        transform_id=transform_id,
    )
    return {"id": transform_id, **transform}


def list_for(engine: StorageEngine, data_set: str) -> list[dict[str, Any]]:
    Registry(engine).get(data_set)
    return Catalog(engine).list_transforms(data_set)


def remove(engine: StorageEngine, data_set: str, transform_id: str) -> None:
    Registry(engine).get(data_set)
    if not Catalog(engine).remove_transform(data_set, transform_id):
        raise NotFound(f"No transform with id '{transform_id}' for data set '{data_set}'")
    audit(
        "transform.remove",
        f"removed transform {transform_id} of data set {data_set}",
        data_set=data_set,
        transform_id=transform_id,
    )
