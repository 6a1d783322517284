"""Recognise an uploaded file by its content and extract its text: one function per format."""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import charset_normalizer

if TYPE_CHECKING:
    import pypdf
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph

# The format libraries (pypdf, python-docx, openpyxl) are imported by the parser that needs
# them: together they are tens of megabytes that every web process would otherwise carry.

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "txt": "text/plain",
    "md": "text/markdown",
}
KIND_LABELS = {"pdf": "PDF", "docx": "Word", "xlsx": "Excel", "csv": "CSV", "txt": "Text", "md": "Markdown"}
ACCEPTED_EXTENSIONS = (".pdf", ".docx", ".xlsx", ".csv", ".txt", ".md")
TABULAR_KINDS = ("xlsx", "csv")

# Zip archives (DOCX, XLSX) are checked against their own directory before any parser opens them.
MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
MAX_ENTRY_RATIO = 250
RATIO_CHECK_FROM_BYTES = 5 * 1024 * 1024

_BINARY_EXTENSIONS = {".pdf", ".docx", ".xlsx", ".doc", ".xls", ".ppt", ".pptx", ".zip", ".png", ".jpg", ".jpeg", ".gif"}
_CSV_EXTENSIONS = {".csv", ".tsv"}
_MARKDOWN_EXTENSIONS = {".md", ".markdown"}
# Control characters other than tab and newline: they break HTML and the snippet markers.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UNSUPPORTED_SIGNATURES = {
    b"\xd0\xcf\x11\xe0": "an old Word or Excel file (.doc/.xls). Save it as .docx or .xlsx and upload that",
    b"\x89PNG": "an image (PNG). Only text documents can be searched",
    b"\xff\xd8\xff": "an image (JPEG). Only text documents can be searched",
    b"GIF8": "an image (GIF). Only text documents can be searched",
    b"\x1f\x8b": "a compressed archive (gzip)",
    b"Rar!": "a compressed archive (RAR)",
    b"7z\xbc\xaf": "a compressed archive (7-Zip)",
}


class ParseError(Exception):
    """The file cannot be used; the message says why in words a user understands."""


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


def parse(filename: str, data: bytes) -> ParsedDocument:
    """Recognise `data` by its content and extract its text, or raise ParseError."""
    if not data:
        raise ParseError("The file is empty.")
    kind = detect_kind(filename, data)
    try:
        parsed = _PARSERS[kind](data)
    except ParseError:
        raise
    except Exception as error:  # Parsers of damaged files raise anything; the user needs one answer.
        log.info("could not parse %s as %s: %r", filename, kind, error)
        raise ParseError(f"The file looks like {KIND_LABELS[kind]} but could not be read; it may be damaged.") from error
    if not any(section.text.strip() for section in parsed.sections) and not any(t.columns for t in parsed.tables):
        raise ParseError(_no_text_message(kind))
    return parsed


def _no_text_message(kind: str) -> str:
    if kind == "pdf":
        return "No text could be found in this PDF; it may be a scanned image, which needs OCR first."
    return "No text could be found in this file."


def detect_kind(filename: str, data: bytes) -> str:
    """Name the format by magic bytes, zip structure and decodability; the extension only breaks ties."""
    extension = PurePath(filename).suffix.lower()
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    for signature, description in _UNSUPPORTED_SIGNATURES.items():
        if data.startswith(signature):
            raise ParseError(f"This is {description}.")
    if extension in _BINARY_EXTENSIONS:
        raise ParseError(f"The file is named {extension} but its content is not a {extension[1:].upper()} file.")
    text_encoding(data)
    if extension in _CSV_EXTENSIONS:
        return "csv"
    return "md" if extension in _MARKDOWN_EXTENSIONS else "txt"


def _zip_kind(data: bytes) -> str:
    with _open_zip(data) as archive:
        names = set(archive.namelist())
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    raise ParseError("This is a ZIP archive, not a Word (.docx) or Excel (.xlsx) document.")


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise ParseError("The file is a damaged ZIP container (DOCX and XLSX are ZIP files).") from error
    check_zip_bomb(archive)
    return archive


def check_zip_bomb(archive: zipfile.ZipFile) -> None:
    """Refuse archives whose directory promises more than any real document holds."""
    entries = archive.infolist()
    message = "The file expands to far more data than a real document holds, so it was not opened."
    if len(entries) > MAX_ZIP_ENTRIES or sum(entry.file_size for entry in entries) > MAX_UNZIPPED_BYTES:
        archive.close()
        raise ParseError(message)
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_CHECK_FROM_BYTES and ratio > MAX_ENTRY_RATIO:
            archive.close()
            raise ParseError(message)


def text_encoding(data: bytes) -> str:
    """Name the encoding `data` is text in, or raise ParseError for binary data."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return encoding
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    encoding = _guess_encoding(data)
    if encoding is None:
        raise ParseError("This is not a supported type. Upload PDF, Word (.docx), Excel (.xlsx), CSV, text or Markdown.")
    return encoding


def decode_text(data: bytes, encoding: str) -> str:
    return _clean(data.decode(encoding, errors="replace"))


def _guess_encoding(data: bytes) -> str | None:
    wide = _utf16_without_bom(data[:4096])
    if wide:
        return wide
    # Without NUL bytes in every other place it is not UTF-16, whatever a short sample suggests.
    matches = [m for m in charset_normalizer.from_bytes(data[:1_000_000]) if not m.encoding.startswith("utf_16")
               and not m.encoding.startswith("utf_32")]
    if not matches:
        return "cp1252" if _looks_like_cp1252_text(data[:1_000_000]) else None
    best = min(matches, key=lambda match: (match.chaos, -match.coherence))
    # Western European text fits several code pages equally well; cp1252 is by far the most common.
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos and match.coherence >= best.coherence:
            return "cp1252"
    return best.encoding


def _looks_like_cp1252_text(sample: bytes) -> bool:
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return len(_CONTROL_CHARACTERS.findall(text)) <= len(text) // 100


def _utf16_without_bom(sample: bytes) -> str | None:
    half = len(sample) // 2
    if half < 2:
        return None
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    if odd_nuls > half * 0.3 and even_nuls < half * 0.05:
        return "utf-16-le"
    if even_nuls > half * 0.3 and odd_nuls < half * 0.05:
        return "utf-16-be"
    return None


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARACTERS.sub("", text)


def parse_pdf(data: bytes) -> ParsedDocument:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        _decrypt_without_password(reader)
    sections = []
    for number, page in enumerate(reader.pages, start=1):
        text = _clean(page.extract_text() or "").strip()
        if text:
            sections.append(Section(text, page=number))
    return ParsedDocument("pdf", sections=sections, meta={"pages": len(reader.pages)})


def _decrypt_without_password(reader: pypdf.PdfReader) -> None:
    import pypdf

    # Many PDFs are "encrypted" with an empty user password only to restrict printing.
    try:
        result = reader.decrypt("")
    except (pypdf.errors.PyPdfError, NotImplementedError) as error:
        raise ParseError("The PDF is encrypted and cannot be opened. Upload a copy without a password.") from error
    if result == pypdf.PasswordType.NOT_DECRYPTED:
        raise ParseError("The PDF is protected by a password. Upload a copy without a password.")


def parse_docx(data: bytes) -> ParsedDocument:
    with _open_zip(data):
        pass
    import docx
    from docx.table import Table as DocxTable

    document = docx.Document(io.BytesIO(data))
    blocks = [_docx_block(block) for block in document.iter_inner_content()]
    text = "\n\n".join(block for block in blocks if block)
    tables = sum(1 for block in document.iter_inner_content() if isinstance(block, DocxTable))
    return ParsedDocument("docx", sections=[Section(_clean(text))], meta={"tables": tables})


def _docx_block(block: Paragraph | DocxTable) -> str:
    from docx.text.paragraph import Paragraph

    if isinstance(block, Paragraph):
        return block.text.strip()
    lines = []
    for row in block.rows:
        cells = _unique_cells(row.cells)
        line = " | ".join(cell.text.strip().replace("\n", " ") for cell in cells)
        if line.strip(" |"):
            lines.append(line)
    return "\n".join(lines)


def _unique_cells(cells: Iterable[Any]) -> list[Any]:
    # A merged cell is returned once per grid column it spans.
    unique, seen = [], set()
    for cell in cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            unique.append(cell)
    return unique


def parse_xlsx(data: bytes) -> ParsedDocument:
    with _open_zip(data):
        pass
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        tables = [_sheet_table(sheet) for sheet in workbook.worksheets]
    finally:
        workbook.close()
    tables = [table for table in tables if table.columns]
    meta = {"sheets": [{"name": t.name, "columns": t.columns, "rows": len(t.rows)} for t in tables]}
    return ParsedDocument("xlsx", tables=tables, meta=meta)


def _sheet_table(sheet: Any) -> Table:
    # The stored dimensions can be wrong; without them every row is read.
    sheet.reset_dimensions()
    rows = ((number, [cell_text(value) for value in values]) for number, values in enumerate(sheet.iter_rows(values_only=True), start=1))
    return build_table(sheet.title, rows)


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
    return _clean(str(value)).replace("\t", " ").replace("\n", " ").strip()


def build_table(name: str | None, rows: Iterable[tuple[int, list[str]]]) -> Table:
    """Take the first non-empty row as the column labels and keep the non-empty rows below it."""
    columns: list[str] = []
    body: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        if not any(cells):
            continue
        if not columns:
            columns = [label or f"Column {index}" for index, label in enumerate(cells, start=1)]
            continue
        body.append((number, cells))
    width = max([len(columns)] + [len(cells) for _, cells in body])
    columns += [f"Column {index}" for index in range(len(columns) + 1, width + 1)]
    padded = [(number, cells + [""] * (width - len(cells))) for number, cells in body]
    return Table(name, columns, padded)


def parse_csv(data: bytes) -> ParsedDocument:
    encoding = text_encoding(data)
    text = decode_text(data, encoding)
    dialect = _sniff_dialect(text[:64_000])
    csv.field_size_limit(16 * 1024 * 1024)
    try:
        rows = _numbered_csv_rows(text, dialect)
        table = build_table(None, rows)
    except csv.Error as error:
        raise ParseError(f"The CSV file could not be read: {error}.") from error
    meta = {"sheets": [{"name": None, "columns": table.columns, "rows": len(table.rows)}], "encoding": encoding}
    return ParsedDocument("csv", tables=[table] if table.columns else [], meta=meta)


def _numbered_csv_rows(text: str, dialect: type[csv.Dialect]) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text), dialect)
    for number, cells in enumerate(reader, start=1):
        yield number, [cell.replace("\t", " ").replace("\n", " ").strip() for cell in cells]


def _sniff_dialect(sample: str) -> type[csv.Dialect]:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def parse_text(data: bytes) -> ParsedDocument:
    encoding = text_encoding(data)
    return ParsedDocument("txt", sections=[Section(decode_text(data, encoding))], meta={"encoding": encoding})


def parse_markdown(data: bytes) -> ParsedDocument:
    parsed = parse_text(data)
    parsed.kind = "md"
    return parsed


_PARSERS: dict[str, Callable[[bytes], ParsedDocument]] = {
    "pdf": parse_pdf,
    "docx": parse_docx,
    "xlsx": parse_xlsx,
    "csv": parse_csv,
    "txt": parse_text,
    "md": parse_markdown,
}
