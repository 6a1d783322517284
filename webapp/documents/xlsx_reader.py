"""Excel workbooks read as a stream: each worksheet's rows, within the file's cell budget.

Only the parts that hold values are parsed (the workbook's list of sheets, the shared strings,
the number formats that mark dates), by lxml, a sheet's rows one at a time, each freed once
read. openpyxl builds an object per cell and takes 1.7 times as long over the same rows; its
helpers still decide which number formats are dates and what a date's serial number means, so
values read as Excel shows them.

A row's number is the one the file gives it: the rows a sheet skips are never laid out.
"""

from __future__ import annotations

import posixpath
import string
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601

from . import office_xml
from .parsed import CellBudget, ParsedDocument, ReadingLimits, Table, build_table, cell_text

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_ROW, _CELL, _VALUE, _INLINE = f"{{{_MAIN}}}row", f"{{{_MAIN}}}c", f"{{{_MAIN}}}v", f"{{{_MAIN}}}is"
_DIMENSION, _STRING_ITEM = f"{{{_MAIN}}}dimension", f"{{{_MAIN}}}si"
_TEXT, _RUN = f"{{{_MAIN}}}t", f"{{{_MAIN}}}r"
_LETTERS = string.ascii_letters
WORKBOOK = "xl/workbook.xml"


def read_xlsx(archive: zipfile.ZipFile, limits: ReadingLimits) -> ParsedDocument:
    workbook = _Workbook.read(archive)
    budget = CellBudget(limits.max_cells)
    tables = [_sheet_table(archive, name, path, workbook, budget) for name, path in workbook.sheets]
    tables = [table for table in tables if table.columns]
    meta = {"sheets": [{"name": t.name, "columns": t.columns, "rows": len(t.rows)} for t in tables]}
    return ParsedDocument("xlsx", tables=tables, meta=meta)


@dataclass
class _Workbook:
    """What reading any sheet needs: where the sheets are, the shared strings, and which styles are dates."""

    sheets: list[tuple[str, str]] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)
    date_styles: set[int] = field(default_factory=set)
    duration_styles: set[int] = field(default_factory=set)
    epoch: datetime = CALENDAR_WINDOWS_1900

    @classmethod
    def read(cls, archive: zipfile.ZipFile) -> _Workbook:
        names = set(archive.namelist())
        parts = _relationships(archive, WORKBOOK, names)
        root = _parse_part(archive, WORKBOOK)
        workbook = cls()
        properties = root.find(f"{{{_MAIN}}}workbookPr")
        date1904 = properties is not None and properties.get("date1904") in ("1", "true")
        if date1904:
            workbook.epoch = CALENDAR_MAC_1904
        for sheet in root.iterfind(f"{{{_MAIN}}}sheets/{{{_MAIN}}}sheet"):
            kind, path = parts.get(sheet.get(f"{{{_OFFICE_REL}}}id") or "", ("", ""))
            if kind == "worksheet" and path in names:  # chart sheets hold no cells
                workbook.sheets.append((sheet.get("name") or "", path))
        by_kind = {kind: path for kind, path in parts.values() if path in names}
        if "sharedStrings" in by_kind:
            workbook.strings = _shared_strings(archive, by_kind["sharedStrings"])
        if "styles" in by_kind:
            workbook._read_number_formats(archive, by_kind["styles"])
        return workbook

    def _read_number_formats(self, archive: zipfile.ZipFile, path: str) -> None:
        root = _parse_part(archive, path)
        custom = {
            _number(node.get("numFmtId")): node.get("formatCode")
            for node in root.iterfind(f"{{{_MAIN}}}numFmts/{{{_MAIN}}}numFmt")
        }
        for index, style in enumerate(root.iterfind(f"{{{_MAIN}}}cellXfs/{{{_MAIN}}}xf")):
            number_format = _number(style.get("numFmtId"))
            code = custom[number_format] if number_format in custom else builtin_format_code(number_format)
            if is_date_format(code):
                self.date_styles.add(index)
            if is_timedelta_format(code):
                self.duration_styles.add(index)

    def value(self, cell: Any) -> Any:
        """A cell's value as openpyxl reads it with data_only: the result a formula last had, not the formula."""
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(_INLINE)
            return None if inline is None else _text(inline)
        raw = cell.findtext(_VALUE)
        if not raw:
            return None
        if kind == "n":
            number = float(raw) if "." in raw or "e" in raw or "E" in raw else int(raw)
            style = _number(cell.get("s"))
            return self._date(number, style) if style in self.date_styles else number
        if kind == "s":
            return self.strings[int(raw)]
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            return from_ISO8601(raw)
        return raw  # "str" (a formula's text) and "e" (an error such as #DIV/0!)

    def _date(self, serial: float, style: int) -> Any:
        try:
            return from_excel(serial, self.epoch, timedelta=style in self.duration_styles)
        except (OverflowError, ValueError):
            return "#VALUE!"  # a serial number no date has, shown as Excel shows it


def _sheet_table(archive: zipfile.ZipFile, name: str, path: str, workbook: _Workbook, budget: CellBudget) -> Table:
    with archive.open(path) as source:
        return build_table(name, _rows(source, workbook, budget), budget)


def _rows(source: Any, workbook: _Workbook, budget: CellBudget) -> Iterator[tuple[int, list[str]]]:
    number = 0
    for _, element in office_xml.iterparse(source, ("end",), (_DIMENSION, _ROW)):
        if element.tag == _DIMENSION:
            # A sheet that declares more cells than the budget is refused before any row is read;
            # one that declares fewer is still held to the budget by its real rows.
            declared = _declared_size(element.get("ref") or "")
            if declared:
                budget.check(*declared)
            continue
        number = _row_number(element.get("r"), number)
        yield number, _cells(element, workbook)
        office_xml.free(element)


def _cells(row: Any, workbook: _Workbook) -> list[str]:
    # A row is as wide as its last cell with a value: a blank cell that only carries a format
    # (often far out, to column XFD) neither widens the table nor costs the padding up to it.
    cells: list[str] = []
    column = 0
    for cell in row.iterchildren(_CELL):
        reference = cell.get("r")
        column = _column(reference) if reference else column + 1
        text = cell_text(workbook.value(cell))
        if column > len(cells):
            if not text:
                continue
            cells.extend([""] * (column - len(cells)))
        cells[column - 1] = text  # a cell named twice: the later one wins, as in Excel
    return cells


def _column(reference: str) -> int:
    """The column number of a cell reference such as "AB12" (as openpyxl reads it: one to three letters)."""
    letters = len(reference) - len(reference.lstrip(_LETTERS))
    if not 0 < letters <= 3 or not reference[letters:].isdigit():
        raise ValueError(f"not a cell reference: {reference[:20]!r}")
    column = 0
    for character in reference[:letters].upper():
        column = column * 26 + ord(character) - 64
    return column


def _row_number(attribute: str | None, previous: int) -> int:
    if attribute is None:
        return previous + 1
    number = float(attribute)
    if not number.is_integer() or number < 1:
        raise ValueError(f"not a row number: {attribute[:20]!r}")
    return int(number)


def _declared_size(reference: str) -> tuple[int, int] | None:
    """The rows and columns a dimension such as "A1:F120" spans from the sheet's first cell."""
    last = reference.split(":")[-1].replace("$", "")
    digits = last.lstrip(_LETTERS)
    if not digits.isdigit():
        return None
    try:
        return int(digits), _column(last)
    except ValueError:
        return None


def _shared_strings(archive: zipfile.ZipFile, path: str) -> list[str]:
    strings = []
    with archive.open(path) as source:
        for _, item in office_xml.iterparse(source, ("end",), (_STRING_ITEM,)):
            strings.append(_text(item).replace("x005F_", ""))
            office_xml.free(item)
    return strings


def _text(node: Any) -> str:
    """A string's text: its plain part and its formatted runs, not the phonetic guide (rPh) above it."""
    parts = []
    for child in node:
        if child.tag == _TEXT:
            parts.append(child.text or "")
        elif child.tag == _RUN:
            parts.append(child.findtext(_TEXT) or "")
    return "".join(parts)


def _relationships(archive: zipfile.ZipFile, part: str, names: set[str]) -> dict[str, tuple[str, str]]:
    """A part's relationships by id: the kind of part each names (its type's last word) and its path."""
    folder, base = posixpath.split(part)
    path = posixpath.join(folder, "_rels", f"{base}.rels")
    if path not in names:
        return {}
    found = {}
    for relation in _parse_part(archive, path).iterfind(f"{{{_PACKAGE_REL}}}Relationship"):
        target = relation.get("Target") or ""
        if target.startswith("/"):
            target = target[1:]
        else:
            target = posixpath.normpath(posixpath.join(folder, target))
        found[relation.get("Id") or ""] = ((relation.get("Type") or "").rsplit("/", 1)[-1], target)
    return found


def _number(attribute: str | None) -> int:
    try:
        return int(attribute or 0)
    except ValueError:
        return 0


def _parse_part(archive: zipfile.ZipFile, path: str) -> Any:
    with archive.open(path) as source:
        return office_xml.parse(source)
