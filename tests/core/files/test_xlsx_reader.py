"""The streaming .xlsx reader on hand-made workbook parts: every cell type,
shared and rich strings, date styles, the 1904 calendar, gaps, and refusals."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import openpyxl
import pytest

from backdrop.core.files import BadFile
from tests.core.files.conftest import records, xlsx_bytes

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TYPES = REL + "/worksheet"


def workbook(
    sheet: str, *, shared: str = "", styles: str = "", pr: str = "", raw: str = ""
) -> bytes:
    """A minimal .xlsx: one sheet (its <sheetData> rows given), optional parts."""
    rels = [f'<Relationship Id="rId1" Type="{TYPES}" Target="worksheets/sheet1.xml"/>']
    parts = {
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{pr}'
        f'<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/worksheets/sheet1.xml": raw
        or f'<worksheet xmlns="{MAIN}"><sheetData>{sheet}</sheetData></worksheet>',
    }
    if shared:
        parts["xl/sharedStrings.xml"] = f'<sst xmlns="{MAIN}">{shared}</sst>'
        rels.append(
            f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    if styles:
        parts["xl/styles.xml"] = f'<styleSheet xmlns="{MAIN}">{styles}</styleSheet>'
        rels.append(f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>')
    parts["xl/_rels/workbook.xml.rels"] = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(rels)
        + "</Relationships>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


HEADER = '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c>' + (
    '<c r="B1" t="inlineStr"><is><t>value</t></is></c></row>'
)


def test_every_cell_type():
    shared = "<si><t>plain</t></si><si><r><t>ri</t></r><r><t>ch</t></r><rPh><t>x</t></rPh></si>"
    rows = HEADER + "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{name}</t></is></c>{cell}</row>'
        for n, (name, cell) in enumerate(
            [
                ("shared", '<c r="B2" t="s"><v>0</v></c>'),
                ("rich", '<c r="B3" t="s"><v>1</v></c>'),
                ("int", '<c r="B4"><v>42</v></c>'),
                ("float", '<c r="B5"><v>2.5</v></c>'),
                ("exp", '<c r="B6"><v>1E-3</v></c>'),
                ("bool", '<c r="B7" t="b"><v>1</v></c>'),
                ("error", '<c r="B8" t="e"><v>#DIV/0!</v></c>'),
                ("formula", '<c r="B9" t="str"><f>A1</f><v>cached</v></c>'),
                ("nocache", '<c r="B10"><f>1+1</f></c>'),
                ("isodate", '<c r="B11" t="d"><v>2024-01-31T09:30:00Z</v></c>'),
            ],
            start=2,
        )
    )
    values = [r["value"] for r in records(workbook(rows, shared=shared))]
    assert values == [
        "plain", "rich", 42, 2.5, 0.001, True, "#DIV/0!", "cached", None,
        "2024-01-31T09:30:00Z",
    ]  # fmt: skip


STYLES = (
    '<numFmts><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm"/></numFmts>'
    '<cellStyleXfs><xf numFmtId="14"/></cellStyleXfs>'
    '<cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="21"/>'
    '<xf numFmtId="2"/></cellXfs><cellStyles><cellStyle xfId="0"/></cellStyles>'
)


@pytest.mark.parametrize(
    ("style", "raw", "expected", "pr"),
    [
        ("1", "45322", "2024-01-31T00:00:00Z", ""),
        ("2", "45322.395833333336", "2024-01-31T09:30:00Z", ""),
        ("3", "0.5", "12:00:00", ""),
        ("4", "45322", 45322, ""),
        ("0", "45322", 45322, ""),
        ("1", "1", "1904-01-02T00:00:00Z", '<workbookPr date1904="1"/>'),
    ],
)
def test_numbers_in_date_styles_become_iso_dates(style, raw, expected, pr):
    rows = HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c>'
    rows += f'<c r="B2" s="{style}"><v>{raw}</v></c></row>'
    assert records(workbook(rows, styles=STYLES, pr=pr))[0]["value"] == expected


def test_missing_cells_and_rows_keep_their_places():
    rows = HEADER + '<row r="4"><c r="B4"><v>7</v></c></row>'
    assert records(workbook(rows)) == [{"name": None, "value": 7}]
    with pytest.raises(BadFile, match="row 6, column 3: a value past the header"):
        records(workbook(rows + '<row r="6"><c r="C6"><v>1</v></c></row>'))


def test_a_doctype_is_refused():
    sheet = '<!DOCTYPE x [<!ENTITY a "aaaaaaaa">]><worksheet><sheetData/></worksheet>'
    with pytest.raises(BadFile, match="DOCTYPE"):
        records(workbook("", raw=sheet))


def test_a_cell_reference_beyond_excel_is_refused():
    rows = HEADER + '<row r="2"><c r="ZZZZ2"><v>1</v></c></row>'
    with pytest.raises(BadFile, match="out of Excel's range"):
        records(workbook(rows))


def test_a_sheet_streamed_without_a_dimension_element_reads_whole():
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("s")
    sheet.append(["name", "when"])
    for n in range(3000):
        sheet.append([f"n{n}", datetime(2024, 1, 1 + n % 28)])
    out = io.BytesIO()
    book.save(out)
    found = records(out.getvalue())
    assert len(found) == 3000
    assert found[-1] == {"name": "n2999", "when": "2024-01-04T00:00:00Z"}


def test_sheets_come_in_workbook_order_with_their_names():
    book = xlsx_bytes({"b-first": [["name"], ["one"]], "a-second": [["name"], ["two"]]})
    assert records(book) == [{"name": "one"}]
    assert records(book, sheet="a-second") == [{"name": "two"}]


def test_a_sheet_written_with_a_namespace_prefix():
    sheet = (
        f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>'
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>name</x:t></x:is></x:c></x:row>'
        '<x:row r="2"><x:c r="A2"><x:v>5</x:v></x:c></x:row>'
        "</x:sheetData></x:worksheet>"
    )
    assert records(workbook("", raw=sheet)) == [{"name": 5}]
