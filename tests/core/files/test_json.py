"""JSON and JSON Lines files (SPEC 15: `backdrop push` reads them too)."""

from __future__ import annotations

import pytest

from backdrop.core.files import BadFile, FileTooLarge
from tests.core.files.conftest import records


def test_a_json_array_streams_its_objects():
    assert records(b' [{"name": "a", "n": 1.5}, {"name": "b", "n": 2}]', "f.json") == [
        {"name": "a", "n": 1.5},
        {"name": "b", "n": 2},
    ]


def test_one_json_object_is_one_record():
    assert records(b'{\n  "name": "a"\n}\n', "f.json") == [{"name": "a"}]


def test_json_lines_with_a_bom_and_blank_lines():
    assert records(b'\xef\xbb\xbf{"name": "a"}\n\n{"name": "b"}\n', "f.jsonl") == [
        {"name": "a"},
        {"name": "b"},
    ]


def test_json_lines_are_recognised_without_a_name():
    assert records(b'{"name": "a"}\n{"name": "b"}\n') == [{"name": "a"}, {"name": "b"}]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b'[{"a": 1}, {"b": ]', "f.json", "row 2: unparseable JSON"),
        (b'[{"aa": 1}, 3]', "f.json", "row 2: each record must be a JSON object"),
        (b"[]", "f.json", "the file holds no records"),
        (b'{"aa": 1}\n{"aa": \n', "f.jsonl", "row 2: unparseable JSON"),
        (b'{"aa": 1}\n[1]\n', "f.jsonl", "row 2: each record must be a JSON object"),
        (b"\n\n", "f.jsonl", "the file holds no records"),
    ],
)
def test_bad_json_files_name_their_row(data, name, message):
    with pytest.raises(BadFile) as error:
        records(data, name)
    assert message in error.value.message


def test_json_over_the_row_limit_is_413():
    with pytest.raises(FileTooLarge, match="row 4: the file has more than 3 records"):
        records(b"[" + b",".join([b'{"a": 1}'] * 5) + b"]", "f.json", max_rows=3)
    with pytest.raises(FileTooLarge, match="row 4: the file has more than 3 records"):
        records(b'{"a": 1}\n' * 5, "f.jsonl", max_rows=3)
