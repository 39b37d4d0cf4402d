"""Excel: .xlsx streamed, .xls read, dates to ISO, sheets, and bad workbooks (SPEC 8)."""

from __future__ import annotations

from datetime import datetime

import pytest

from backdrop.core.files import BadFile, FileTooLarge
from tests.core.files.conftest import records, xls_bytes, xlsx_bytes, zip_bomb_xlsx

ROWS = [
    ["_timestamp", "name", "count", "ratio", "code"],
    [datetime(2024, 1, 31, 9, 30), "a", 3, 0.5, "007"],
    [None, None, None, None, None],
    ["# a comment", None, None, None, None],
    [datetime(2024, 2, 1), "b", 4.0, 1.25, "12"],
]
EXPECTED = [
    {"_timestamp": "2024-01-31T09:30:00Z", "name": "a", "count": 3, "ratio": 0.5, "code": "007"},
    {"_timestamp": "2024-02-01T00:00:00Z", "name": "b", "count": 4, "ratio": 1.25, "code": 12},
]


def test_xlsx_rows_become_records_with_iso_dates():
    assert records(xlsx_bytes({"data": ROWS}), "f.xlsx") == EXPECTED


def test_xls_rows_become_records_with_iso_dates():
    assert records(xls_bytes({"data": ROWS}), "f.xls") == EXPECTED


@pytest.mark.parametrize("make", [xlsx_bytes, xls_bytes])
def test_the_first_sheet_is_read_unless_one_is_named(make):
    book = make({"first": [["name"], ["one"]], "second": [["name"], ["two"]]})
    assert records(book) == [{"name": "one"}]
    assert records(book, sheet="second") == [{"name": "two"}]
    with pytest.raises(BadFile, match='no sheet named "third"') as error:
        records(book, sheet="third")
    assert error.value.detail == "sheets: first, second"


def test_the_first_sheet_filter_ignores_the_others():
    book = xlsx_bytes({"first": [["name"], ["one"]], "second": [["name"], ["two"]]})
    with pytest.raises(BadFile, match="no sheet named"):
        records(book, sheet="second", filters=("first_sheet",))


def test_a_header_with_a_number_is_refused_with_its_column():
    with pytest.raises(BadFile, match="row 1, column 2: header 2024 is not a valid key"):
        records(xlsx_bytes({"s": [["name", 2024], ["a", 1]]}), "f.xlsx")


def test_an_xlsx_that_is_really_csv_is_refused():
    with pytest.raises(BadFile) as error:
        records(b"name,count\na,1\n", "report.xlsx")
    assert error.value.message == "the file is named report.xlsx but its content is CSV text"


def test_an_xlsx_named_csv_is_refused():
    with pytest.raises(BadFile, match="named report.csv but its content is an .xlsx workbook"):
        records(xlsx_bytes({"s": [["name"], ["a"]]}), "report.csv")


def test_a_workbook_without_a_name_is_judged_by_its_content():
    assert records(xlsx_bytes({"s": [["name"], ["a"]]})) == [{"name": "a"}]
    assert records(xls_bytes({"s": [["name"], ["a"]]})) == [{"name": "a"}]


def test_a_zip_bomb_is_413_before_anything_is_inflated():
    bomb = zip_bomb_xlsx(64 << 20)
    assert len(bomb) < 200_000
    with pytest.raises(FileTooLarge) as error:
        records(bomb, "bomb.xlsx", max_unzipped_bytes=32 << 20)
    assert error.value.status == 413
    assert "unzips to" in error.value.message
    assert "over the limit of 33554432 bytes" in error.value.message


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.99])
def test_a_truncated_xlsx_is_a_bad_file(cut):
    book = xlsx_bytes({"s": [["name", "count"]] + [["a", n] for n in range(2000)]})
    with pytest.raises(BadFile, match="not a readable Excel workbook") as error:
        records(book[: int(len(book) * cut)], "f.xlsx")
    assert "truncated or damaged" in error.value.detail


def test_a_zip_that_is_not_a_workbook_is_refused():
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(BadFile, match="zip archive but not an Excel workbook"):
        records(out.getvalue(), "f.xlsx")


def test_a_damaged_xls_is_a_bad_file():
    book = xls_bytes({"s": [["name"], ["a"]]})
    with pytest.raises(BadFile, match="not a readable Excel workbook"):
        records(book[:600], "f.xls")


def test_too_many_xlsx_rows_is_413():
    book = xlsx_bytes({"s": [["name"]] + [["a"]] * 20})
    with pytest.raises(FileTooLarge, match="row 12: the file has more than 10 rows"):
        records(book, max_rows=10)
