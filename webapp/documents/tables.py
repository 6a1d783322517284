"""Spreadsheet rows as searchable lines, and those lines read back as tables to show and download.

A row is stored as one line: its place, then "Label: value" for each filled cell, separated by
tabs (cells never contain tabs; parsing turns them into spaces). So a search hit on a row names
its sheet and row number, and the page can rebuild the table from the passages alone.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models import DocumentChunk
    from .parsed import Table

SEPARATOR = "\t"
_ROW_NUMBER = re.compile(r"row (\d+)$", re.IGNORECASE)
_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d+)?")


def row_line(table: Table, number: int, cells: Sequence[str]) -> str:
    """Render one row with its sheet, row number and column labels."""
    place = f"{table.name}, row {number}" if table.name else f"Row {number}"
    filled = [f"{label}: {value}" for label, value in zip(table.columns, cells, strict=False) if value]
    return SEPARATOR.join([place, *filled])


@dataclass(frozen=True)
class Row:
    number: int | None
    cells: list[str]


@dataclass
class Passage:
    """The rows of one chunk, so the page can anchor a citation to them."""

    ordinal: int
    rows: list[Row]


@dataclass
class SheetView:
    name: str | None
    columns: list[str]
    passages: list[Passage] = field(default_factory=list)

    @property
    def rows(self) -> Iterable[Row]:
        return (row for passage in self.passages for row in passage.rows)


def read_row(line: str, columns: Sequence[str]) -> Row:
    """Turn a stored row line back into cells, in column order."""
    place, *parts = line.split(SEPARATOR)
    match = _ROW_NUMBER.search(place)
    cells = [""] * len(columns)
    index = 0
    for part in parts:
        while index < len(columns) and not part.startswith(f"{columns[index]}: "):
            index += 1
        if index == len(columns):
            break
        cells[index] = part[len(columns[index]) + 2 :]
        index += 1
    return Row(int(match.group(1)) if match else None, cells)


def sheet_views(meta: dict[str, Any], chunks: Iterable[DocumentChunk]) -> list[SheetView]:
    """Group a spreadsheet's passages by sheet, with the column labels kept in its metadata."""
    views = [SheetView(sheet.get("name"), list(sheet.get("columns", []))) for sheet in meta.get("sheets", [])]
    by_name = {view.name: view for view in views}
    for chunk in chunks:
        view = by_name.get(chunk.sheet)
        if view is None:
            continue
        rows = [read_row(line, view.columns) for line in chunk.text.split("\n") if line]
        view.passages.append(Passage(chunk.ordinal, rows))
    return views


def to_csv(view: SheetView) -> bytes:
    """Write one parsed sheet as UTF-8 CSV, with the original row numbers first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Row", *view.columns])
    for row in view.rows:
        writer.writerow([row.number or "", *row.cells])
    # A BOM makes spreadsheet programs read the file as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(views: Sequence[SheetView]) -> bytes:
    """Write the parsed table(s) as a workbook, one worksheet per sheet."""
    import openpyxl  # only here: the library is large and exports are rare

    workbook = openpyxl.Workbook(write_only=True)
    for position, view in enumerate(views, start=1):
        sheet = workbook.create_sheet(_sheet_title(view.name, position))
        sheet.append(["Row", *view.columns])
        for row in view.rows:
            sheet.append([row.number, *(_xlsx_cell(sheet, value) for value in row.cells)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(name: str | None, position: int) -> str:
    title = re.sub(r"[\[\]:*?/\\]", " ", name or "").strip()[:31]
    return title or f"Sheet{position}"


def _xlsx_cell(sheet: Any, value: str) -> Any:
    if _NUMBER.fullmatch(value):
        return float(value) if "." in value else int(value)
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    # A value such as "=HYPERLINK(...)" must stay text, never become a formula.
    cell.data_type = "s"
    return cell
