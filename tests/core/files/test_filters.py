"""Upload filters: built-ins from the entry-point group, legacy aliases, unknown names."""

from __future__ import annotations

import pytest

from backdrop.core.files import BadFile
from backdrop.core.files.filters import registered
from tests.core.files.conftest import records, xlsx_bytes


def test_the_built_ins_register_through_the_entry_point_group():
    assert {"first_sheet", "skip_blank_rows", "strip_whitespace"} <= set(registered())


def test_strip_whitespace_trims_text_cells_before_types_are_inferred():
    data = b"name,count\n  a  , 12 \n"
    assert records(data) == [{"name": "  a  ", "count": " 12 "}]
    assert records(data, filters=("strip_whitespace",)) == [{"name": "a", "count": 12}]


def test_skip_blank_rows_drops_rows_of_spaces():
    data = b"name,count\na,1\n  ,  \nb,2\n"
    assert len(records(data)) == 3
    assert records(data, filters=("skip_blank_rows",)) == [
        {"name": "a", "count": 1},
        {"name": "b", "count": 2},
    ]


def test_legacy_dotted_names_are_aliases_of_the_built_ins():
    book = xlsx_bytes({"one": [["name"], ["x"]], "two": [["name"], ["y"]]})
    names = ("backdrop.core.upload.filters.first_sheet_filter",)
    assert records(book, filters=names) == [{"name": "x"}]


@pytest.mark.parametrize("name", ["os.system", "nope", "backdrop.core.upload.filters.nope"])
def test_unknown_filters_and_import_paths_are_refused(name):
    with pytest.raises(BadFile, match="unknown upload filter") as error:
        records(b"name\na\n", filters=(name,))
    assert "first_sheet, skip_blank_rows, strip_whitespace" in error.value.detail
