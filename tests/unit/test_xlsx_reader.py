"""The streaming XLSX reader reads every kind of cell as openpyxl does, in files written the way Excel writes them."""

from __future__ import annotations

import io
import warnings
import zipfile

import openpyxl
import pytest

from webapp.documents.parsed import CellBudget, build_table, cell_text
from webapp.documents.parsing import ParseError, ReadingLimits, parse

from .. import samples

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# Excel keeps text in a shared table; a string may be made of formatted runs, with a phonetic guide.
SHARED_STRINGS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="{_MAIN}" count="5" uniqueCount="5">
<si><t>Item</t></si>
<si><t>When</t></si>
<si><r><rPr><b/></rPr><t>Bold</t></r><r><t xml:space="preserve"> and plain</t></r></si>
<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si>
<si><t>Tab_x005F_x0009_kept</t></si>
</sst>"""

STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_MAIN}">
<numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy\\ hh:mm"/><numFmt numFmtId="165" formatCode="[h]:mm"/></numFmts>
<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="21"/></cellXfs>
</styleSheet>"""

_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CONTENT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CONTENT}.worksheet+xml"/>'
    f'<Override PartName="/xl/chartsheets/sheet1.xml" ContentType="{_CONTENT}.chartsheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CONTENT}.sharedStrings+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CONTENT}.styles+xml"/>'
    "</Types>"
)

SHEET = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{_MAIN}"><dimension ref="A1:E9"/><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>Note</t></is></c></row>
<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="1"><v>46082</v></c><c r="C2" t="b"><v>1</v></c></row>
<row r="4"><c r="A4" t="s"><v>3</v></c><c r="B4" s="2"><v>46082.75</v></c><c r="C4" t="e"><v>#DIV/0!</v></c></row>
<row r="5"><c r="A5"><f>1+1</f><v>2</v></c><c r="B5" s="3"><v>1.5</v></c><c r="C5" t="str"><f>"a"&amp;"b"</f><v>ab</v></c></row>
<row r="6"><c r="A6"><v>3.25</v></c><c r="C6" s="4"><v>0.5</v></c><c r="E6" t="inlineStr"><is><r><t>rich</t></r><r><t> inline</t></r></is></c></row>
<row><c><v>1E3</v></c><c t="s"><v>4</v></c></row>
<row r="9"><c r="A9" t="b"><v>0</v></c><c r="B9" s="1"/><c r="D9" t="d"><v>2026-03-01T09:30:00</v></c></row>
</sheetData></worksheet>"""


def workbook(sheet: str = SHEET, *, date1904: bool = False, absolute_targets: bool = False) -> bytes:
    """A workbook laid out as Excel saves one: a data sheet, a chart sheet, shared strings and styles."""
    prefix = "/xl/" if absolute_targets else ""
    properties = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    parts = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": _rels([("rId1", "officeDocument", "xl/workbook.xml")]),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_OFFICE_REL}">'
            f"{properties}<sheets>"
            '<sheet name="Chart" sheetId="2" r:id="rId2"/><sheet name="Data" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": _rels(
            [
                ("rId1", "worksheet", f"{prefix}worksheets/sheet1.xml"),
                ("rId2", "chartsheet", f"{prefix}chartsheets/sheet1.xml"),
                ("rId3", "sharedStrings", f"{prefix}sharedStrings.xml"),
                ("rId4", "styles", f"{prefix}styles.xml"),
            ]
        ),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/chartsheets/sheet1.xml": f'<chartsheet xmlns="{_MAIN}"/>',
        "xl/chartsheets/_rels/sheet1.xml.rels": _rels([]),
        "xl/sharedStrings.xml": SHARED_STRINGS,
        "xl/styles.xml": STYLES,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _rels(relations: list[tuple[str, str, str]]) -> str:
    items = "".join(
        f'<Relationship Id="{i}" Type="{_REL_TYPE}/{kind}" Target="{target}"/>' for i, kind, target in relations
    )
    return (
        f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{items}</Relationships>'
    )


def openpyxl_rows(data: bytes) -> list[tuple[int, list[str]]]:
    """What openpyxl reads from the one data sheet, laid out as the table builder lays out rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # this minimal stylesheet has no named styles, which openpyxl points out
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        [sheet] = book.worksheets
        sheet.reset_dimensions()
        rows = [
            (number, [cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()
    table = build_table("Data", rows, CellBudget(10**12))
    return [(0, table.columns), *table.rows]


@pytest.mark.parametrize("date1904", [False, True])
@pytest.mark.parametrize("absolute_targets", [False, True])
def test_every_kind_of_cell_reads_as_openpyxl_reads_it(date1904: bool, absolute_targets: bool) -> None:
    data = workbook(date1904=date1904, absolute_targets=absolute_targets)
    [table] = parse("excel.xlsx", data).tables
    assert [(0, table.columns), *table.rows] == openpyxl_rows(data)


def test_the_values_are_shown_as_excel_shows_them() -> None:
    [table] = parse("excel.xlsx", workbook()).tables
    assert table.name == "Data"
    assert table.columns == ["Item", "When", "Note", "Column 4", "Column 5"]
    assert table.rows == [
        (2, ["Bold and plain", "2026-03-01", "TRUE", "", ""]),
        (4, ["東京", "2026-03-01 18:00:00", "#DIV/0!", "", ""]),
        (5, ["2", "1 day, 12:00:00", "ab", "", ""]),
        (6, ["3.25", "", "12:00:00", "", "rich inline"]),
        (7, ["1000", "Tab_x0009_kept", "", "", ""]),
        (9, ["FALSE", "", "", "2026-03-01 09:30:00", ""]),
    ]


def test_a_sheet_that_skips_a_billion_rows_is_read_at_once() -> None:
    far = SHEET.replace('<row r="9">', '<row r="1000000000">').replace('r="A9"', 'r="A1000000000"')
    [table] = parse("far.xlsx", workbook(far)).tables
    assert table.rows[-1][0] == 1_000_000_000


def test_blank_cells_that_only_carry_a_format_do_not_widen_the_table() -> None:
    # Each row formatted out to the last column (XFD): laid out that wide, 400 rows would pass
    # the 5,000,000-cell budget and the file would be refused.
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="XFD{n}" s="1"/></row>' for n in range(1, 401))
    [table] = parse(
        "formatted.xlsx", workbook(SHEET.replace(SHEET[SHEET.index("<row") : SHEET.index("</sheetData>")], rows))
    ).tables
    assert table.columns == ["1"] and len(table.rows) == 399 and table.rows[-1] == (400, ["400"])


def test_a_cell_named_twice_reads_as_its_later_value_even_a_blank_one() -> None:
    sheet = SHEET.replace('<c r="C2" t="b"><v>1</v></c>', '<c r="C2" t="b"><v>1</v></c><c r="C2" s="1"/>')
    [table] = parse("twice.xlsx", workbook(sheet)).tables
    assert table.rows[0][1][2] == ""


@pytest.mark.parametrize("reference", ["AAAA1", "1A", "$A$1", "A 1"])
def test_a_cell_reference_no_sheet_can_hold_is_refused_as_damaged(reference: str) -> None:
    sheet = SHEET.replace('r="C2"', f'r="{reference}"')
    with pytest.raises(ParseError, match="could not be read; it may be damaged"):
        parse("odd.xlsx", workbook(sheet))


def test_a_declared_dimension_over_the_budget_is_refused_before_any_row() -> None:
    sheet = SHEET.replace('ref="A1:E9"', 'ref="A1:XFD1048576"')
    with pytest.raises(ParseError, match=r"1,048,576 rows × 16,384 columns"):
        parse("declared.xlsx", workbook(sheet))


def test_an_entity_in_a_sheet_is_never_expanded() -> None:
    sheet = SHEET.replace(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY big "BIGBIGBIG">]>',
    ).replace("<t>Note</t>", "<t>&big;</t>")
    [table] = parse("entity.xlsx", workbook(sheet)).tables
    assert "BIG" not in " ".join(table.columns)


def test_workbooks_written_by_openpyxl_read_the_same_both_ways() -> None:
    data = samples.xlsx({"Budget": samples.BUDGET_ROWS})
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    expected = [[cell_text(value) for value in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    [table] = parse("budget.xlsx", data, ReadingLimits()).tables
    assert [table.columns, *[cells for _, cells in table.rows]] == [row for row in expected if any(row)]
