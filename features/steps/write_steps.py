"""Steps for the write API: gzip bodies, gzip bombs, big bodies, stored counts, tokens."""

from __future__ import annotations

import gzip
import json
import zlib

import requests
from behave import given, then, when

MIB = 1024 * 1024


def _admin(context) -> dict[str, str]:
    return {"Authorization": f"Bearer {context.admin_token}"}


def _config(context, name: str) -> dict:
    response = requests.get(
        f"{context.write_url}/data-sets/{name}", headers=_admin(context), timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


@given("the request body is gzipped")
def step_gzipped_body(context):
    context.request_body = gzip.compress(context.text.encode())
    context.request_headers["Content-Encoding"] = "gzip"
    context.request_headers.setdefault("Content-Type", "application/json")


@given("the request body is a gzip bomb inflating to {size:d} MiB")
def step_gzip_bomb(context, size):
    """Built chunk by chunk, so the test itself never holds the inflated body."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [deflater.compress(b"[")]
    chunk = b" " * MIB
    parts.extend(deflater.compress(chunk) for _ in range(size))
    parts.append(deflater.compress(b"]") + deflater.flush())
    context.request_body = b"".join(parts)
    assert len(context.request_body) < size * MIB // 100
    context.request_headers["Content-Encoding"] = "gzip"
    context.request_headers.setdefault("Content-Type", "application/json")


@given("the request body is a JSON list of {size:d} MiB")
def step_big_body(context, size):
    context.request_body = b"[" + b" " * (size * MIB) + b"]"
    context.request_headers.setdefault("Content-Type", "application/json")


@given('the request body is a batch of {count:d} records with _ids "{prefix}"')
def step_batch_body(context, count, prefix):
    records = [
        {"_id": f"{prefix}{i}", "value": i, "_timestamp": f"2024-01-{i % 28 + 1:02d}T00:00:00Z"}
        for i in range(count)
    ]
    context.request_body = json.dumps(records).encode()
    context.request_headers.setdefault("Content-Type", "application/json")


@then('"{name}" holds {count:d} records')
def step_holds(context, name, count):
    """Counted through the read app, as a consumer would see them."""
    config = _config(context, name)
    response = requests.get(
        f"{context.read_url}/data/{config['data_group']}/{config['data_type']}", timeout=10
    )
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    assert len(rows) == count, f"expected {count} records, got {len(rows)}: {rows!r}"


@then('the message starts with "{text}"')
def step_message_starts(context, text):
    actual = context.response.json().get("message", "")
    assert actual.startswith(text), f"expected a message starting {text!r}, got {actual!r}"


@then('the response carries the new token of "{name}"')
def step_new_token(context, name):
    token = context.response.json()["bearer_token"]
    assert isinstance(token, str) and len(token) >= 32, token
    context.old_tokens = getattr(context, "old_tokens", {})
    if name in context.tokens:
        context.old_tokens[name] = context.tokens[name]
    context.tokens[name] = token


@then('the previous token of "{name}" is refused')
def step_old_token_refused(context, name):
    config = _config(context, name)
    old = context.old_tokens[name]
    response = requests.post(
        f"{context.write_url}/data/{config['data_group']}/{config['data_type']}",
        json={"value": 1},
        headers={"Authorization": f"Bearer {old}"},
        timeout=10,
    )
    assert response.status_code == 401, response.text


@when('I POST a chunked body of {size:d} KiB to "{path}" with the token of "{name}"')
def step_chunked_post(context, size, path, name):
    """Chunked transfer has no Content-Length: the limit must hold while reading."""

    def chunks():
        yield b"["
        for _ in range(size):
            yield b" " * 1024
        yield b"]"

    context.response = requests.post(
        f"{context.write_url}{path}",
        data=chunks(),
        headers={
            "Authorization": f"Bearer {context.tokens[name]}",
            "Content-Type": "application/json",
        },
        timeout=30,
    )
