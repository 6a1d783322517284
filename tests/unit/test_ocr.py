"""Scanned PDFs: read by tesseract when it is installed, refused with the reason when it is not."""

from __future__ import annotations

import pytest

from webapp.documents.parsing import ParseError, ReadingLimits, parse

from .. import samples
from ..imports import require_tesseract

SCAN = [["Invoice approval workflow", "The sponsor signs off every release."]]


@pytest.fixture
def tesseract() -> None:
    require_tesseract()


def test_a_scanned_page_is_read_by_text_recognition(tesseract: None) -> None:
    parsed = parse("scan.pdf", samples.scanned_pdf(*SCAN), ReadingLimits(ocr_command="tesseract"))
    [section] = parsed.sections
    assert section.page == 1 and section.text == "Invoice approval workflow\n\nThe sponsor signs off every release."
    assert parsed.meta == {"pages": 1, "ocr_pages": [1]}


@pytest.mark.parametrize("command", [None, "/nonexistent/tesseract"])
def test_without_text_recognition_a_scan_is_refused_with_the_reason(command: str | None) -> None:
    with pytest.raises(ParseError, match=r"scanned image, which needs OCR first \(text recognition is not installed"):
        parse("scan.pdf", samples.scanned_pdf(*SCAN), ReadingLimits(ocr_command=command))


def test_text_recognition_reads_a_bounded_number_of_pages(tesseract: None) -> None:
    data = samples.scanned_pdf(*SCAN * 3)
    with pytest.raises(
        ParseError, match="a scan of 3 pages; text recognition \\(OCR\\) reads at most 2 pages per file"
    ):
        parse("scan.pdf", data, ReadingLimits(ocr_command="tesseract", ocr_max_pages=2))


def test_a_blank_scan_is_refused_even_with_text_recognition(tesseract: None) -> None:
    with pytest.raises(ParseError, match="not even by text recognition"):
        parse("blank.pdf", samples.scanned_pdf([]), ReadingLimits(ocr_command="tesseract"))
