"""The OpenAPI 3.1 document of an app, built from its routes.

Each view declares its operation with ``@operation(...)`` (summary, query
parameters, body, responses), or ``@not_an_api(reason)`` for a route left out
on purpose; ``document(app)`` walks the app's URL map, and the test suite
fails on any route with neither. Path parameters come from the route itself,
and the read parameters from ``backdrop.core.parameters``, the table
``query_args`` validates with: the document cannot drift from what the apps
accept.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask
from werkzeug.routing import Rule

from backdrop import __version__
from backdrop.core.names import NAME_PATTERN
from backdrop.core.parameters import Parameter
from backdrop.web.schemas import RESPONSES, SCHEMAS, ref

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
REFERENCE = re.compile(r'"#/components/(schemas|responses)/(\w+)"')
# HEAD and OPTIONS are answered by Flask for every GET route; not operations of their own.
IMPLICIT_METHODS = frozenset(("HEAD", "OPTIONS"))
CONVERTER = re.compile(r"<(?:(?P<converter>[a-z_]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
PATH_SCHEMAS = {
    "default": {"type": "string"},
    "path": {"type": "string", "description": "may contain /, percent-encoded"},
    "data_set_name": {"type": "string", "pattern": NAME_PATTERN.pattern},
}
SECURITY = {
    "dataSetToken": {"type": "http", "scheme": "bearer", "description": "the data set's token"},
    "adminToken": {"type": "http", "scheme": "bearer", "description": "BACKDROP_ADMIN_TOKEN"},
}
REQUEST_ID = {
    "name": "X-Request-Id",
    "in": "header",
    "description": "kept when 1–200 of A-Z a-z 0-9 . _ : @ / + = -, else a new id is made; "
    "GOVUK-Request-Id is read too. Every response carries it back.",
    "schema": {"type": "string"},
}


@dataclass(frozen=True)
class Success:
    """A 2xx or 3xx answer: its description and body (schema name or schema)."""

    description: str
    schema: str | dict[str, Any] | None = None
    content_type: str = "application/json"
    also: Mapping[str, str | dict[str, Any]] = field(default_factory=dict)

    def render(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"description": self.description}
        if self.schema is not None:
            content = {self.content_type: self.schema}
            content.update(self.also)
            answer["content"] = {
                kind: {"schema": ref(schema) if isinstance(schema, str) else schema}
                for kind, schema in content.items()
            }
        return answer


@dataclass(frozen=True)
class Operation:
    summary: str
    responses: Mapping[int, Success | str]
    tag: str
    description: str | None = None
    query: tuple[Parameter, ...] = ()
    body: str | None = None
    auth: str | None = None
    body_type: str = "application/json"

    def render(self, rule: Rule, method: str) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "operationId": f"{method.lower()}_{rule.endpoint.replace('.', '_')}",
            "summary": self.summary,
            "tags": [self.tag],
            "parameters": [*_path_parameters(rule), *map(_query_parameter, self.query), REQUEST_ID],
            "responses": {
                str(status): answer.render()
                if isinstance(answer, Success)
                else {"$ref": f"#/components/responses/{answer}"}
                for status, answer in sorted(self.responses.items())
            },
        }
        if self.description:
            spec["description"] = self.description
        if self.body:
            spec["requestBody"] = {
                "required": True,
                "content": {self.body_type: {"schema": ref(self.body)}},
            }
        if self.auth:
            spec["security"] = [{self.auth: []}]
        return spec


def operation(
    summary: str,
    *,
    tag: str,
    responses: Mapping[int, Success | str],
    description: str | None = None,
    query: tuple[Parameter, ...] = (),
    body: str | None = None,
    auth: str | None = None,
    body_type: str = "application/json",
) -> Callable[[F], F]:
    """Declare a view's OpenAPI operation; ``responses`` maps each status to a
    ``Success`` or the name of a shared error response (``"NotFound"``);
    ``body`` names a schema of ``backdrop.web.schemas``, sent as ``body_type``
    (``multipart/form-data`` with ``"FileUpload"`` for uploads)."""
    declared = Operation(summary, responses, tag, description, query, body, auth, body_type)
    for answer in responses.values():
        if isinstance(answer, str) and answer not in RESPONSES:
            raise ValueError(f"unknown shared response {answer!r}")
    if body is not None and body not in SCHEMAS:
        raise ValueError(f"unknown body schema {body!r}")

    def decorate(view: F) -> F:
        view.openapi = declared  # type: ignore[attr-defined]
        return view

    return decorate


def openapi_path(rule: Rule) -> str:
    return CONVERTER.sub(lambda match: "{" + match["name"] + "}", rule.rule)


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    return [
        {
            "name": match["name"],
            "in": "path",
            "required": True,
            "schema": PATH_SCHEMAS.get(match["converter"] or "default", PATH_SCHEMAS["default"]),
        }
        for match in CONVERTER.finditer(rule.rule)
    ]


def _query_parameter(parameter: Parameter) -> dict[str, Any]:
    schema = parameter.schema
    spec: dict[str, Any] = {
        "name": parameter.name,
        "in": "query",
        "description": parameter.description,
    }
    if parameter.repeatable:
        spec.update(schema={"type": "array", "items": schema}, style="form", explode=True)
    else:
        spec["schema"] = schema
    if parameter.example is not None:
        spec["example"] = [parameter.example] if parameter.repeatable else parameter.example
    return spec


def not_an_api(reason: str) -> Callable[[F], F]:
    """Leave a route out of the document on purpose (an HTML page of the web
    UI, say); ``reason`` says why, for the person reading the code."""

    def decorate(view: F) -> F:
        view.openapi = reason  # type: ignore[attr-defined]
        return view

    return decorate


def operations(app: Flask) -> tuple[list[tuple[Rule, str, Operation]], list[str]]:
    """Every (route, method, declaration) of ``app``, and the routes that have
    neither an ``@operation`` nor a ``@not_an_api`` (the tests fail on those)."""
    found, undeclared = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        declared = getattr(app.view_functions[rule.endpoint], "openapi", None)
        for method in sorted((rule.methods or set()) - IMPLICIT_METHODS):
            if isinstance(declared, Operation):
                found.append((rule, method, declared))
            elif declared is None:
                undeclared.append(f"{method} {rule.rule} ({rule.endpoint})")
    return found, undeclared


def document(app: Flask, title: str, description: str) -> dict[str, Any]:
    """The document; an undeclared route is left out and logged, never a 500
    (the test suite fails on it instead)."""
    found, undeclared = operations(app)
    for route in undeclared:
        log.warning("%s has no @operation: left out of /openapi.json", route)
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, declared in found:
        paths.setdefault(openapi_path(rule), {})[method.lower()] = declared.render(rule, method)
    components = {
        "schemas": SCHEMAS,
        "responses": RESPONSES,
        "securitySchemes": SECURITY,
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": __version__, "description": description},
        "paths": paths,
        "components": _used(components, paths),
    }


def _used(components: dict[str, dict[str, Any]], paths: dict[str, Any]) -> dict[str, Any]:
    """Only the components the paths refer to, directly or through each other."""
    wanted: dict[str, set[str]] = {kind: set() for kind in components}
    pending = [paths]
    while pending:
        text = json.dumps(pending.pop())
        for kind, name in REFERENCE.findall(text):
            if name not in wanted[kind]:
                wanted[kind].add(name)
                pending.append(components[kind][name])
    for operations_of_path in paths.values():
        for spec in operations_of_path.values():
            for requirement in spec.get("security", []):
                wanted["securitySchemes"].update(requirement)
    return {
        kind: {name: components[kind][name] for name in sorted(wanted[kind])}
        for kind in components
        if wanted[kind]
    }
