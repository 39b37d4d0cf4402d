"""Steps shared by every feature: data sets, requests to either app, response checks."""

from __future__ import annotations

import json

import requests
from behave import given, then, when


def _json_docstring(context):
    return json.loads(context.text)


def _admin_headers(context) -> dict[str, str]:
    return {"Authorization": f"Bearer {context.admin_token}"}


def create_data_set(context, name: str, config: dict | None = None) -> None:
    body = {"name": name, **(config or {})}
    response = requests.post(
        f"{context.write_url}/data-sets", json=body, headers=_admin_headers(context), timeout=10
    )
    assert response.status_code == 201, response.text
    context.tokens[name] = response.json()["bearer_token"]


def address_of(context, name: str) -> str:
    response = requests.get(
        f"{context.write_url}/data-sets/{name}", headers=_admin_headers(context), timeout=10
    )
    assert response.status_code == 200, response.text
    config = response.json()
    return f"/data/{config['data_group']}/{config['data_type']}"


@given('a data set "{name}" exists')
def step_data_set_exists(context, name):
    create_data_set(context, name)


@given('a data set "{name}" exists with config')
def step_data_set_exists_with_config(context, name):
    create_data_set(context, name, _json_docstring(context))


@given('"{name}" contains')
def step_data_set_contains(context, name):
    response = requests.post(
        f"{context.write_url}{address_of(context, name)}",
        data=context.text.encode(),
        headers={
            "Authorization": f"Bearer {context.tokens[name]}",
            "Content-Type": "application/json",
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text


@given("the request body is")
def step_request_body(context):
    context.request_body = context.text.encode()
    context.request_headers.setdefault("Content-Type", "application/json")


@given('the request header "{name}" is "{value}"')
def step_request_header(context, name, value):
    context.request_headers[name] = value


def send(context, method: str, path: str, app: str, authorization: str | None = None) -> None:
    base = {"read": context.read_url, "write": context.write_url}[app]
    headers = dict(context.request_headers)
    if authorization is not None:
        headers["Authorization"] = authorization
    body = context.request_body
    if body is None and context.text is not None:
        body = context.text.encode()
        headers.setdefault("Content-Type", "application/json")
    context.response = requests.request(
        method, f"{base}{path}", data=body, headers=headers, timeout=30
    )
    context.request_body = None
    context.request_headers = {}


@when('I {method:w} "{path}" on the {app:w} app')
def step_request(context, method, path, app):
    send(context, method, path, app)


@when('I {method:w} "{path}" on the {app:w} app with the token of "{name}"')
def step_request_with_token(context, method, path, app, name):
    send(context, method, path, app, f"Bearer {context.tokens[name]}")


@when('I {method:w} "{path}" on the {app:w} app as admin')
def step_request_as_admin(context, method, path, app):
    send(context, method, path, app, f"Bearer {context.admin_token}")


@then("the status is {code:d}")
def step_status(context, code):
    assert context.response.status_code == code, (
        f"expected {code}, got {context.response.status_code}: {context.response.text[:500]}"
    )


@then('the header "{name}" is "{value}"')
def step_header(context, name, value):
    actual = context.response.headers.get(name)
    assert actual == value, f"{name}: expected {value!r}, got {actual!r}"


@then('the header "{name}" is absent')
def step_header_absent(context, name):
    assert name not in context.response.headers, context.response.headers


@then("the JSON response is")
def step_json_is(context):
    expected = _json_docstring(context)
    actual = context.response.json()
    assert actual == expected, f"expected {expected!r}\n     got {actual!r}"


def contains(actual, expected) -> bool:
    """Recursive subset: dict keys are a subset, lists match element by element."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and contains(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(contains(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return actual == expected and type(actual) is type(expected)


@then("the JSON response contains")
def step_json_contains(context):
    expected = _json_docstring(context)
    actual = context.response.json()
    assert contains(actual, expected), f"expected a superset of {expected!r}\n     got {actual!r}"


def json_at(document, path: str):
    for part in path.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


@then('the JSON at "{path}" is {value}')
def step_json_at(context, path, value):
    actual = json_at(context.response.json(), path)
    expected = json.loads(value)
    assert actual == expected and type(actual) is type(expected), (
        f"{path}: expected {expected!r}, got {actual!r}"
    )


@then('the message is "{text}"')
def step_message(context, text):
    actual = context.response.json().get("message")
    assert actual == text, f"expected message {text!r}, got {actual!r}"


@then("the response has {count:d} data rows")
def step_data_rows(context, count):
    rows = context.response.json()["data"]
    assert len(rows) == count, f"expected {count} rows, got {len(rows)}: {rows!r}"
