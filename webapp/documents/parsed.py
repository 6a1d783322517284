"""What reading a file produces (prose sections, tables), the limits a reader works within, and its errors."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from .kinds import CONTENT_TYPES

MEGABYTE = 1024 * 1024
# Control characters other than tab and newline: they break HTML and the snippet markers.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ParseError(Exception):
    """The file cannot be used; the message says why in words a user understands."""


@dataclass(frozen=True)
class ReadingLimits:
    """What one file may ask of its reader; each limit has a setting of its own."""

    max_unzipped_bytes: int = 100 * MEGABYTE
    max_cells: int = 5_000_000
    pdf_max_operators: int = 100_000
    # None: no text recognition; else the tesseract program to run, when it is installed.
    ocr_command: str | None = None
    ocr_languages: str = "eng"
    ocr_max_pages: int = 50

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReadingLimits:
        return cls(
            max_unzipped_bytes=config["IMPORT_MAX_UNZIPPED_MB"] * MEGABYTE,
            max_cells=config["IMPORT_MAX_CELLS"],
            pdf_max_operators=config["IMPORT_PDF_MAX_OPERATORS"],
            ocr_command=config["TESSERACT_CMD"] if config["IMPORT_OCR"] else None,
            ocr_languages=config["IMPORT_OCR_LANGUAGES"],
            ocr_max_pages=config["IMPORT_OCR_MAX_PAGES"],
        )


@dataclass(frozen=True)
class Section:
    """A run of prose, with the page it is on when the format knows pages."""

    text: str
    page: int | None = None


@dataclass(frozen=True)
class Table:
    """A sheet or a CSV file: column labels and the numbered rows below them."""

    name: str | None
    columns: list[str]
    rows: list[tuple[int, list[str]]]


@dataclass
class ParsedDocument:
    kind: str
    sections: list[Section] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


class CellBudget:
    """Counts the cells of a file's tables as a reader lays them out, spans and padding included."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def check(self, rows: int, columns: int) -> None:
        """Refuse a table of `rows` x `columns` cells when, with the tables before it, it passes the limit."""
        if self.used + rows * columns > self.limit:
            raise ParseError(
                f"A table in this file holds {rows:,} rows × {columns:,} columns, "
                f"more than the {self.limit:,} table cells allowed in one file."
            )

    def spend(self, cells: int) -> None:
        self.used += cells


def clean_text(text: str) -> str:
    """Unify line ends and drop control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARACTERS.sub("", text)


def has_control_characters(text: str, *, at_most: int) -> bool:
    return len(_CONTROL_CHARACTERS.findall(text)) > at_most


def cell_text(value: Any) -> str:
    """Show a spreadsheet value the way a reader expects it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return clean_text(str(value)).replace("\t", " ").replace("\n", " ").strip()


def build_table(name: str | None, rows: Iterable[tuple[int, list[str]]], budget: CellBudget) -> Table:
    """Take the first non-empty row as the column labels and keep the non-empty rows below it.

    Rows are padded to the widest one, so the budget counts rows x that width as they come.
    """
    columns: list[str] = []
    body: list[tuple[int, list[str]]] = []
    width = 0
    for number, cells in rows:
        if not any(cells):
            continue
        width = max(width, len(cells))
        budget.check(len(body) + 1, width)
        if not columns:
            columns = [label or f"Column {index}" for index, label in enumerate(cells, start=1)]
            continue
        body.append((number, cells))
    budget.spend((len(body) + 1) * width if columns else 0)
    columns += [f"Column {index}" for index in range(len(columns) + 1, width + 1)]
    padded = [(number, cells + [""] * (width - len(cells))) for number, cells in body]
    return Table(name, columns, padded)
