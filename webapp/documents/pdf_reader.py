"""PDF text, page by page, within a per-page budget of drawing operations; OCR for pages that are images.

pypdf reads the file's structure and counts each page's operations before anything draws it;
PDFium (pypdfium2) then extracts the text of the pages that pass, three times faster than pypdf's
own extractor and with the layout Chromium gives them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import ocr
from .parsed import ParsedDocument, ParseError, ReadingLimits, Section, clean_text

if TYPE_CHECKING:
    import pypdf
    import pypdfium2

# What is not an operator in a content stream: strings, hex strings, names and comments.
_NOT_OPERATORS = re.compile(rb"\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f\s]*>|/[^\s/\[\]()<>{}%]*|%[^\r\n]*", re.S)
# An operator starts with a letter or a quote (Tj, T*, ', "); numbers never do.
_OPERATOR = re.compile(rb"[A-Za-z'\"][^\s\[\]()<>{}/%]*")
MAX_FORM_DEPTH = 8
COUNT_SLICE = 256 * 1024
_SPACE = re.compile(rb"\s")


def read_pdf(data: bytes, limits: ReadingLimits, progress: Callable[[str], None] | None = None) -> ParsedDocument:
    import pypdf  # only in the import process
    import pypdfium2

    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        _decrypt_without_password(reader)
    sections, textless = [], []
    report = progress or (lambda text: None)
    document = pypdfium2.PdfDocument(data)
    try:
        if len(document) != len(reader.pages):
            # A page only one of the readers sees would be drawn without its operations counted.
            raise ParseError("The PDF's list of pages is inconsistent; it may be damaged. Save it again as PDF.")
        for number, page in enumerate(reader.pages, start=1):
            report(f"Reading page {number:,} of {len(reader.pages):,}")
            check_operator_budget(page, number, limits.pdf_max_operators)
            text = clean_text(page_text(document, number)).strip()
            if text:
                sections.append(Section(text, page=number))
            else:
                textless.append(number)
    finally:
        document.close()
    meta: dict[str, Any] = {"pages": len(reader.pages)}
    if textless and len(textless) == len(reader.pages):
        sections = _recognise(data, textless, limits, report)
        meta["ocr_pages"] = [section.page for section in sections]
    return ParsedDocument("pdf", sections=sections, meta=meta)


def page_text(document: pypdfium2.PdfDocument, number: int) -> str:
    """The text PDFium finds on page `number` (from 1), with plain line ends."""
    page = document[number - 1]
    try:
        text_page = page.get_textpage()
        try:
            return text_page.get_text_bounded().replace("\r\n", "\n")
        finally:
            text_page.close()
    finally:
        page.close()


def warm_up() -> None:
    """Read a small PDF once, so that a process forked after this finds PDFium's fonts and the
    readers' tables loaded (15 ms of every PDF's first page otherwise)."""
    read_pdf(_one_line_pdf(b"Ready."), ReadingLimits())


def _one_line_pdf(text: bytes) -> bytes:
    content = b"BT /F1 12 Tf 10 20 Td (%s) Tj ET" % text
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 50]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
        b"<</Length %d>>stream\n%s\nendstream" % (len(content), content),
    ]
    pdf, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table)
    return bytes(pdf)


def _recognise(data: bytes, pages: list[int], limits: ReadingLimits, report: Callable[[str], None]) -> list[Section]:
    if not ocr.available(limits.ocr_command):
        raise ParseError(
            "No text could be found in this PDF; it may be a scanned image, which needs OCR first "
            "(text recognition is not installed on this server)."
        )
    if len(pages) > limits.ocr_max_pages:
        raise ParseError(
            f"This PDF is a scan of {len(pages):,} pages; text recognition (OCR) reads at most "
            f"{limits.ocr_max_pages:,} pages per file."
        )
    texts = ocr.recognise_pages(data, pages, command=limits.ocr_command or "", languages=limits.ocr_languages)
    sections = []
    for page, text in texts:
        report(f"Recognising text (OCR): page {page:,} of {len(pages):,}")
        sections.append(Section(clean_text(text).strip(), page=page))
    sections = [section for section in sections if section.text]
    if not sections:
        raise ParseError("No text could be found in this PDF, not even by text recognition (OCR).")
    return sections


def check_operator_budget(page: pypdf.PageObject, number: int, limit: int) -> None:
    """Refuse a page whose content, with the forms it draws, holds more operations than `limit`.

    Counted on the decoded bytes before the text extractor parses a single operation.
    """
    count = _count_operators(page.get_contents(), limit)
    count += _count_form_operators(page.get("/Resources"), limit - count, depth=0, seen=set())
    if count > limit:
        raise ParseError(f"Page {number} holds more than the {limit:,} drawing operations allowed per page.")


def _count_operators(stream: Any, limit: int) -> int:
    """Count a stream's operations a slice at a time, stopping once past `limit`."""
    data = stream.get_data() if stream is not None else b""
    count = start = 0
    while start < len(data) and count <= limit:
        # Slices end at white space, where no operator is cut in two (a string may be: a budget
        # counts close enough).
        space = _SPACE.search(data, start + COUNT_SLICE)
        end = space.end() if space else len(data)
        count += len(_OPERATOR.findall(_NOT_OPERATORS.sub(b" ", data[start:end])))
        start = end
    return count


def _count_form_operators(resources: Any, budget: int, *, depth: int, seen: set[int]) -> int:
    """Operations in the form XObjects a page or form draws, each form counted once, nested forms too."""
    resources = resources.get_object() if resources is not None else None
    forms = resources.get("/XObject") if resources is not None else None
    if forms is None or depth > MAX_FORM_DEPTH or budget < 0:
        return 0
    count = 0
    for reference in forms.get_object().values():
        form = reference.get_object()
        if form.get("/Subtype") != "/Form" or id(form) in seen:
            continue
        seen.add(id(form))
        count += _count_operators(form, budget - count)
        count += _count_form_operators(form.get("/Resources"), budget - count, depth=depth + 1, seen=seen)
        if count > budget:
            break
    return count


def _decrypt_without_password(reader: pypdf.PdfReader) -> None:
    import pypdf

    # Many PDFs are "encrypted" with an empty user password only to restrict printing.
    try:
        result = reader.decrypt("")
    except (pypdf.errors.PyPdfError, NotImplementedError) as error:
        raise ParseError("The PDF is encrypted and cannot be opened. Upload a copy without a password.") from error
    if result == pypdf.PasswordType.NOT_DECRYPTED:
        raise ParseError("The PDF is protected by a password. Upload a copy without a password.")
