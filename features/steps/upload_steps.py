"""Steps for file uploads: files made in the step (CSV text, workbooks), sent as multipart."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import requests
import xlwt
from behave import given, then, when

from features.steps.http_steps import address_of


def _table_rows(context) -> list[list]:
    rows = [list(context.table.headings)] + [list(row.cells) for row in context.table]
    return [[_typed(cell) for cell in row] for row in rows]


def _typed(cell: str):
    """Workbook cells as Excel holds them: numbers as numbers, dates as dates."""
    try:
        return datetime.fromisoformat(cell.removesuffix("Z"))
    except ValueError:
        pass
    try:
        return int(cell)
    except ValueError:
        return cell


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xls(rows: list[list]) -> bytes:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    dates = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM:SS")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            style = dates if isinstance(value, datetime) else xlwt.Style.default_style
            sheet.write(r, c, value, style)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@given('a file "{filename}" with rows')
def step_file_with_rows(context, filename):
    rows = _table_rows(context)
    make = {"csv": lambda r: _csv([[str(c) for c in row] for row in r]), "xlsx": _xlsx, "xls": _xls}
    context.upload_file = (filename, make[filename.rsplit(".", 1)[1]](rows))


@given('a file "{filename}" containing')
def step_file_containing(context, filename):
    context.upload_file = (filename, context.text.encode() + b"\n")


@given('a file "{filename}" of {size:d} random bytes')
def step_file_of_garbage(context, filename, size):
    context.upload_file = (filename, bytes((n * 7919) % 256 for n in range(size)))


@when('I upload it to "{name}" as a dry run')
def step_upload_dry_run(context, name):
    upload(context, name, "?dry_run=true")


@when('I upload it to "{name}"')
def step_upload(context, name):
    upload(context, name, "")


def upload(context, name: str, query: str) -> None:
    filename, data = context.upload_file
    context.response = requests.post(
        f"{context.write_url}{address_of(context, name)}/upload{query}",
        files={"file": (filename, data)},
        headers={"Authorization": f"Bearer {context.tokens[name]}"},
        timeout=60,
    )


@when('I list the uploads of "{name}"')
def step_list_uploads(context, name):
    context.response = requests.get(
        f"{context.write_url}{address_of(context, name)}/uploads",
        headers={"Authorization": f"Bearer {context.tokens[name]}"},
        timeout=30,
    )


@given('"{name}" has the transform')
def step_transform(context, name):
    response = requests.post(
        f"{context.write_url}/data-sets/{name}/transforms",
        data=context.text.encode(),
        headers={
            "Authorization": f"Bearer {context.admin_token}",
            "Content-Type": "application/json",
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text


@then('the records of "{name}" are')
def step_records_are(context, name):
    """Read back through the read app, without the fields the store adds."""
    response = requests.get(f"{context.read_url}{address_of(context, name)}", timeout=10)
    assert response.status_code == 200, response.text
    rows = [
        {k: str(v) for k, v in row.items() if k not in ("_id", "_updated_at")}
        for row in response.json()["data"]
    ]
    expected = [dict(zip(context.table.headings, row.cells, strict=True)) for row in context.table]
    key = lambda row: sorted(row.items())  # noqa: E731
    assert sorted(rows, key=key) == sorted(expected, key=key), rows
