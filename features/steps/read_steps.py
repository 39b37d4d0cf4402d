"""Steps for the read API: relative times, ETags, CSV bodies, a broken read app."""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from behave import given, then, when

from backdrop.core.periods import PERIOD_KEYS
from backdrop.testing import start_app


def _address(context, name: str) -> str:
    response = requests.get(
        f"{context.write_url}/data-sets/{name}",
        headers={"Authorization": f"Bearer {context.admin_token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    config = response.json()
    return f"/data/{config['data_group']}/{config['data_type']}"


def _at(document, path: str):
    for part in path.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


@given('"{name}" contains a record from {days:d} days ago')
def step_record_days_ago(context, name, days):
    moment = datetime.now(UTC) - timedelta(days=days)
    response = requests.post(
        f"{context.write_url}{_address(context, name)}",
        json={"_timestamp": moment.isoformat()},
        headers={"Authorization": f"Bearer {context.tokens[name]}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


@given("{seconds:g} seconds have passed")
def step_wait(context, seconds):
    time.sleep(seconds)


@given('the request header "If-None-Match" is the ETag of the last response')
def step_if_none_match(context):
    context.request_headers["If-None-Match"] = context.response.headers["ETag"]


@given("a read app whose database cannot be opened")
def step_broken_read_app(context):
    """A second read app whose SQLite file lies under a regular file."""
    blocker = Path(context.tmp.name) / "not-a-directory"
    blocker.write_text("")
    env = {**os.environ, "BACKDROP_DATABASE_URL": f"sqlite:///{blocker}/t.db"}
    app = start_app("read", env, Path(context.tmp.name) / "broken-read.log", workers=1)
    context.add_cleanup(app.stop)
    context.broken_read_url = app.url


@when('I {method:w} "{path}" on that read app')
def step_request_broken_app(context, method, path):
    context.response = requests.request(method, f"{context.broken_read_url}{path}", timeout=10)


@then("no row has a period key")
def step_no_period_keys(context):
    for row in context.response.json()["data"]:
        assert not set(row) & set(PERIOD_KEYS), row


@then('every row has an "{key}" ending "{suffix}"')
def step_every_row_key_suffix(context, key, suffix):
    for row in context.response.json()["data"]:
        assert str(row[key]).endswith(suffix), row


@then('the period at "{path}" is the day {days:d} days ago')
def step_period_is_day_ago(context, path, days):
    day = (datetime.now(UTC) - timedelta(days=days)).date()
    row = _at(context.response.json(), path)
    assert row["_start_at"] == f"{day.isoformat()}T00:00:00+00:00", row


@then('the number at "{path}" is a positive integer')
def step_positive_integer(context, path):
    value = _at(context.response.json(), path)
    assert isinstance(value, int) and not isinstance(value, bool) and value > 0, value


@then('the time at "{path}" is ISO 8601 with +00:00')
def step_iso_utc(context, path):
    value = _at(context.response.json(), path)
    assert value.endswith("+00:00"), value
    assert datetime.fromisoformat(value).utcoffset() == timedelta(0)


@then("the response has an ETag")
def step_has_etag(context):
    etag = context.response.headers.get("ETag", "")
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2, etag


@then("the response body is empty")
def step_empty_body(context):
    assert context.response.content == b"", context.response.content[:200]


@then("the content type is text/csv")
def step_csv_type(context):
    content_type = context.response.headers.get("Content-Type", "")
    assert content_type.split(";")[0].strip() == "text/csv", content_type


def _csv(context) -> list[list[str]]:
    return list(csv.reader(io.StringIO(context.response.text)))


@then("the CSV response is")
def step_csv_is(context):
    expected = list(csv.reader(io.StringIO(context.text)))
    actual = _csv(context)
    assert actual == expected, f"expected {expected!r}\n     got {actual!r}"


@then('the CSV response, without the "{column}" column, is')
def step_csv_is_without(context, column):
    rows = _csv(context)
    index = rows[0].index(column)
    actual = [row[:index] + row[index + 1 :] for row in rows]
    expected = list(csv.reader(io.StringIO(context.text)))
    assert actual == expected, f"expected {expected!r}\n     got {actual!r}"
