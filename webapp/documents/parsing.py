"""Recognise an uploaded file by its content and extract its text, each format by its own reader.

Runs in the import process (see webapp.imports), never in a web process: the readers and their
libraries are loaded there only.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from pathlib import PurePath

import charset_normalizer

from . import csv_reader, docx_reader, pdf_reader, xlsx_reader
from .kinds import KIND_LABELS
from .parsed import (
    MEGABYTE,
    ParsedDocument,
    ParseError,
    ReadingLimits,
    Section,
    Table,
    clean_text,
    has_control_characters,
)

__all__ = ["ParseError", "ParsedDocument", "ReadingLimits", "Section", "Table", "detect_kind", "parse"]

log = logging.getLogger(__name__)

MAX_ZIP_ENTRIES = 10_000
MAX_ENTRY_RATIO = 250
RATIO_CHECK_FROM_BYTES = 5 * 1024 * 1024

_BINARY_EXTENSIONS = {
    ".pdf",
    ".docx",
    ".xlsx",
    ".doc",
    ".xls",
    ".ppt",
    ".pptx",
    ".zip",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
}
_CSV_EXTENSIONS = {".csv", ".tsv"}
_MARKDOWN_EXTENSIONS = {".md", ".markdown"}
_UNSUPPORTED_SIGNATURES = {
    b"\xd0\xcf\x11\xe0": "an old Word or Excel file (.doc/.xls). Save it as .docx or .xlsx and upload that",
    b"\x89PNG": "an image (PNG). Only text documents can be searched",
    b"\xff\xd8\xff": "an image (JPEG). Only text documents can be searched",
    b"GIF8": "an image (GIF). Only text documents can be searched",
    b"\x1f\x8b": "a compressed archive (gzip)",
    b"Rar!": "a compressed archive (RAR)",
    b"7z\xbc\xaf": "a compressed archive (7-Zip)",
}


Progress = Callable[[str], None] | None


def parse(
    filename: str, data: bytes, limits: ReadingLimits | None = None, *, progress: Progress = None
) -> ParsedDocument:
    """Recognise `data` by its content and extract its text, or raise ParseError.

    `progress`, if given, is told what the reader is doing ("Reading page 3 of 40") now and then.
    """
    limits = limits or ReadingLimits()
    if not data:
        raise ParseError("The file is empty.")
    kind = detect_kind(filename, data, limits)
    try:
        parsed = pdf_reader.read_pdf(data, limits, progress) if kind == "pdf" else _READERS[kind](data, limits)
    except (ParseError, MemoryError):
        raise
    except Exception as error:  # Readers of damaged files raise anything; the user needs one answer.
        if "memory" in str(error).lower():
            raise MemoryError(str(error)) from error  # a C library that says so in words (libxml2)
        log.info("could not parse %s as %s: %r", filename, kind, error)
        raise ParseError(
            f"The file looks like {KIND_LABELS[kind]} but could not be read; it may be damaged."
        ) from error
    if not any(section.text.strip() for section in parsed.sections) and not any(t.columns for t in parsed.tables):
        raise ParseError(_no_text_message(kind))
    return parsed


def _no_text_message(kind: str) -> str:
    if kind == "pdf":
        return "No text could be found in this PDF; it may be a scanned image, which needs OCR first."
    return "No text could be found in this file."


def detect_kind(filename: str, data: bytes, limits: ReadingLimits | None = None) -> str:
    """Name the format by magic bytes, zip structure and decodability; the extension only breaks ties."""
    extension = PurePath(filename).suffix.lower()
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data, limits or ReadingLimits())
    for signature, description in _UNSUPPORTED_SIGNATURES.items():
        if data.startswith(signature):
            raise ParseError(f"This is {description}.")
    if extension in _BINARY_EXTENSIONS:
        raise ParseError(f"The file is named {extension} but its content is not a {extension[1:].upper()} file.")
    text_encoding(data)
    if extension in _CSV_EXTENSIONS:
        return "csv"
    return "md" if extension in _MARKDOWN_EXTENSIONS else "txt"


def _zip_kind(data: bytes, limits: ReadingLimits) -> str:
    with open_zip(data, limits) as archive:
        names = set(archive.namelist())
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    raise ParseError("This is a ZIP archive, not a Word (.docx) or Excel (.xlsx) document.")


def open_zip(data: bytes, limits: ReadingLimits) -> zipfile.ZipFile:
    """Open a DOCX or XLSX container once its directory has passed the unpacking budget."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise ParseError("The file is a damaged ZIP container (DOCX and XLSX are ZIP files).") from error
    try:
        check_zip_bomb(archive, limits.max_unzipped_bytes)
    except ParseError:
        archive.close()
        raise
    return archive


def check_zip_bomb(archive: zipfile.ZipFile, max_unzipped_bytes: int) -> None:
    """Refuse archives whose directory promises more than the budget, across all their parts.

    zipfile never returns more than an entry's declared size, so the directory is a true bound.
    """
    entries = archive.infolist()
    message = "The file expands to far more data than a real document holds, so it was not opened."
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ParseError(message)
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_CHECK_FROM_BYTES and ratio > MAX_ENTRY_RATIO:
            raise ParseError(message)
    total = sum(entry.file_size for entry in entries)
    if total > max_unzipped_bytes:
        raise ParseError(
            f"The file expands to {total // MEGABYTE:,} MB when unpacked, "
            f"more than the {max_unzipped_bytes // MEGABYTE:,} MB allowed."
        )


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
        raise ParseError(
            "This is not a supported type. Upload PDF, Word (.docx), Excel (.xlsx), CSV, text or Markdown."
        )
    return encoding


def decode_text(data: bytes, encoding: str) -> str:
    return clean_text(data.decode(encoding, errors="replace"))


def _guess_encoding(data: bytes) -> str | None:
    wide = _utf16_without_bom(data[:4096])
    if wide:
        return wide
    # Without NUL bytes in every other place it is not UTF-16, whatever a short sample suggests.
    matches = [
        m
        for m in charset_normalizer.from_bytes(data[:1_000_000])
        if not m.encoding.startswith("utf_16") and not m.encoding.startswith("utf_32")
    ]
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
    return not has_control_characters(text, at_most=len(text) // 100)


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


def parse_docx(data: bytes, limits: ReadingLimits) -> ParsedDocument:
    with open_zip(data, limits) as archive:
        return docx_reader.read_docx(archive, limits)


def parse_xlsx(data: bytes, limits: ReadingLimits) -> ParsedDocument:
    with open_zip(data, limits) as archive:
        return xlsx_reader.read_xlsx(archive, limits)


def parse_csv(data: bytes, limits: ReadingLimits) -> ParsedDocument:
    encoding = text_encoding(data)
    return csv_reader.read_csv(decode_text(data, encoding), encoding, limits)


def parse_text(data: bytes, limits: ReadingLimits) -> ParsedDocument:
    encoding = text_encoding(data)
    return ParsedDocument("txt", sections=[Section(decode_text(data, encoding))], meta={"encoding": encoding})


def parse_markdown(data: bytes, limits: ReadingLimits) -> ParsedDocument:
    parsed = parse_text(data, limits)
    parsed.kind = "md"
    return parsed


_READERS: dict[str, Callable[[bytes, ReadingLimits], ParsedDocument]] = {
    "docx": parse_docx,
    "xlsx": parse_xlsx,
    "csv": parse_csv,
    "txt": parse_text,
    "md": parse_markdown,
}
