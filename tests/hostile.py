"""Small crafted files that pass every format check yet ask a reader for minutes or gigabytes.

Each builder makes the file described beside it; the tests and bench/imports.py share them.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

import openpyxl

from . import samples

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_HEADER_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
_HEADER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"


def pdf_operator_flood(operations: int = 950_000, pages: int = 1) -> bytes:
    """A PDF whose pages share one content stream that repeats `(abc) Tj` `operations` times."""
    content = zlib.compress(b"BT /F1 12 Tf 72 720 Td " + b"(abc) Tj " * operations + b"ET", 9)
    kids = " ".join(f"{5 + number} 0 R" for number in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    objects += [page] * pages
    return _pdf_file(objects)


def _pdf_file(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def csv_sniffer_trap(repeats: int = 21_000) -> bytes:
    """Quote-newline pairs: the standard library's dialect sniffer backtracks on them for many seconds."""
    return b'\n"x' * repeats


def docx_header_flood(parts: int = 50, part_bytes: int = 5 * 1024 * 1024 - 4096) -> bytes:
    """A real Word file with `parts` header parts of just under 5 MB each, every one referenced."""
    source = zipfile.ZipFile(io.BytesIO(samples.docx_file(["Quarterly review."])))
    paragraph = b"<w:p><w:r><w:t>header text</w:t></w:r></w:p>"
    body = paragraph * ((part_bytes - 200) // len(paragraph))
    header = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:hdr %s>%s</w:hdr>' % (_W.encode(), body)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "[Content_Types].xml":
                overrides = "".join(
                    f'<Override PartName="/word/header{n}.xml" ContentType="{_HEADER_TYPE}"/>' for n in range(parts)
                )
                data = data.replace(b"</Types>", overrides.encode() + b"</Types>")
            elif entry.filename == "word/_rels/document.xml.rels":
                rels = "".join(
                    f'<Relationship Id="rIdH{n}" Type="{_HEADER_REL}" Target="header{n}.xml"/>' for n in range(parts)
                )
                data = data.replace(b"</Relationships>", rels.encode() + b"</Relationships>")
            archive.writestr(entry.filename, data)
        for number in range(parts):
            archive.writestr(f"word/header{number}.xml", header)
    return buffer.getvalue()


def xlsx_far_column(rows: int = 20_000) -> bytes:
    """A workbook with one cell in the last column (XFD) on each of `rows` rows."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in range(1, rows + 1):
        sheet.cell(row=row, column=16_384, value="x")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def docx_wide_spans(span: int = 10_000_000, rows: int = 20) -> bytes:
    """A Word table of `rows` rows whose cells each claim to span `span` grid columns."""
    source = zipfile.ZipFile(io.BytesIO(samples.docx_file(["Spans."], table=[["a", "b"]] * rows)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "word/document.xml":
                data = re.sub(rb"<w:tcPr>", b'<w:tcPr><w:gridSpan w:val="%d"/>' % span, data)
            archive.writestr(entry.filename, data)
    return buffer.getvalue()


def text_without_full_stops(megabytes: float = 24) -> bytes:
    """Plain text of `megabytes` MB: words and spaces, never a sentence end."""
    words = b"requirement stakeholder invoice approval budget release "
    return (words * int(megabytes * 1_000_000 / len(words) + 1))[: int(megabytes * 1_000_000)]
