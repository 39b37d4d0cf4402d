"""CSV: delimiters, BOM, types, skipped rows, and each bad CSV file (SPEC 8)."""

from __future__ import annotations

import io

import pytest

from backdrop.core.files import BadFile, FileTooLarge, ParseOptions, parse
from tests.core.files.conftest import records


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed(delimiter):
    data = delimiter.join(["name", "count", "note"]) + "\n"
    data += delimiter.join(["a", "1", '"x, y; z"']) + "\n"
    data += delimiter.join(["b", "2", "w"]) + "\n"
    assert records(data.encode(), "f.csv") == [
        {"name": "a", "count": 1, "note": "x, y; z"},
        {"name": "b", "count": 2, "note": "w"},
    ]


def test_a_bom_is_not_part_of_the_first_key():
    assert records(b"\xef\xbb\xbfname,count\r\na,1\r\n", "f.csv") == [{"name": "a", "count": 1}]


def test_numeric_looking_cells_become_numbers_and_ids_stay_text():
    data = b"aa,bb,cc,dd,ee,ff\n12,-3.5,1e3,007,nan,\n"
    assert records(data) == [
        {"aa": 12, "bb": -3.5, "cc": 1000.0, "dd": "007", "ee": "nan", "ff": None}
    ]


def test_integers_too_big_for_json_readers_stay_text():
    assert records(b"big,ok\n12345678901234567890,9007199254740992\n") == [
        {"big": "12345678901234567890", "ok": 9007199254740992}
    ]


def test_empty_rows_and_comment_lines_are_skipped_and_rows_keep_file_numbers():
    data = b"# exported 2024\n\nname,count\n#note\na,1\n,\nb,2\n"
    rows = list(parse(io.BytesIO(data), "f.csv"))
    assert [(row.number, row.record["name"]) for row in rows] == [(5, "a"), (7, "b")]


def test_quoted_newlines_stay_in_one_value():
    assert records(b'name,note\na,"line one\nline two"\n') == [
        {"name": "a", "note": "line one\nline two"}
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty: expected a header row, then one row per record"),
        (b"\n\n# only a comment\n", "the file is empty"),
        (b"name,count\n", "the file has a header row but no data rows"),
        (b"name,Name\na,b\n", 'row 1, column 2: duplicate header "Name" (also column 1)'),
        (b"name,foo-bar\na,b\n", "row 1, column 2: header foo-bar is not a valid key"),
        (b"name,_foo\na,b\n", "row 1, column 2: header _foo is not a recognised internal field"),
        (b"name,x\na,b\n", "row 1, column 2: header x is not a valid key"),
        (b"name,,count\na,b,1\n", "row 2, column 2: a value under a column with no header"),
        (b"name,count\na,1\nb,2,3\n", "row 3, column 3: a value past the header"),
        (b"name,count\na,1\nb\n", "row 3: 1 value but the header has 2 columns"),
        (b"name,count\n\xff\xfe\x00\x01garbage", "the file holds binary data"),
        (
            b"name,count\n" + b"c,1\n" * 20000 + b"b,\xff\n",
            "row 20002, column 2: the file is not CSV",
        ),
    ],
)
def test_bad_csv_files_are_refused_with_their_row_and_column(data, message):
    with pytest.raises(BadFile) as error:
        records(data, "f.csv")
    assert error.value.status == 400
    assert message in error.value.message


def test_binary_garbage_named_csv_is_refused():
    garbage = bytes(range(256)) * 40
    with pytest.raises(BadFile, match="binary data") as error:
        records(garbage, "data.csv")
    assert "CSV (UTF-8), .xlsx, .xls, JSON or JSON Lines" in error.value.detail


def test_a_trailing_empty_column_is_ignored():
    assert records(b"name,count,\na,1,\n") == [{"name": "a", "count": 1}]


def test_more_rows_than_the_limit_is_413_naming_the_row():
    with pytest.raises(FileTooLarge) as error:
        records(b"name\n" + b"a\n" * 11, max_rows=10)
    assert error.value.status == 413
    assert error.value.message == "row 12: the file has more than 10 rows"


def test_a_file_over_the_byte_limit_is_413_even_from_a_pipe():
    class Pipe(io.RawIOBase):
        """A stream that cannot seek, like stdin."""

        def __init__(self, data: bytes):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = b"name\n" + b"abcdefgh\n" * 100_000
    with pytest.raises(FileTooLarge, match="over the upload limit of 100000 bytes"):
        list(parse(Pipe(data), "f.csv", options=ParseOptions(max_bytes=100_000)))
    with pytest.raises(FileTooLarge, match="over the upload limit"):
        records(data, max_bytes=100_000)
    assert len(records(data, max_bytes=len(data))) == 100_000
