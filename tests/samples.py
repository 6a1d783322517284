"""Sample documents built in code: PDF, DOCX, XLSX, CSV, and some that must be refused."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import docx
import openpyxl
from fpdf import FPDF


def pdf(*pages: str, password: str | None = None) -> bytes:
    """A PDF with one page per text (an empty text makes a page without any text)."""
    document = FPDF()
    document.set_font("helvetica", size=11)
    for text in pages:
        document.add_page()
        if text:
            document.multi_cell(0, 6, text)
    if password is not None:
        document.set_encryption(owner_password="owner", user_password=password)
    return bytes(document.output())


def docx_file(paragraphs: list[str], table: list[list[str]] | None = None, after: list[str] | None = None) -> bytes:
    """A Word document: paragraphs, an optional table, then more paragraphs."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=False):
            for cell, value in zip(row.cells, values, strict=False):
                cell.text = value
    for text in after or []:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook with one sheet per entry; each sheet is a list of rows (None for an empty row)."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row or [], start=1):
                cell = sheet.cell(row=number, column=column, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text, even when it starts with "="
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bomb_docx() -> bytes:
    """A real DOCX carrying an extra part that inflates a thousandfold."""
    buffer = io.BytesIO(docx_file(["Looks harmless."]))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", b"\0" * (40 * 1024 * 1024))
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not an office document")
    return buffer.getvalue()


CSV_TEXT = "Name;City;Note\nRenée;Zürich;café crème costs €5\nJürgen;Köln;Größe passt\n"
BUDGET_ROWS: list[list[object]] = [
    ["Item", "Cost", "Ordered"],
    ["Laptop", 1200, date(2026, 3, 1)],
    None,
    ["Desk", 300.5, None],
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
OLD_WORD = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64


def scanned_pdf(*pages: list[str]) -> bytes:
    """A PDF of page images only, as a scanner makes them: each page's lines drawn as pixels."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=48)
    images = []
    for lines in pages:
        image = Image.new("L", (1700, 2200), 255)
        draw = ImageDraw.Draw(image)
        for number, line in enumerate(lines):
            draw.text((150, 200 + 100 * number), line, font=font, fill=0)
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=200.0, save_all=True, append_images=images[1:])
    return buffer.getvalue()
