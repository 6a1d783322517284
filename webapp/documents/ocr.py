"""Text recognition for scanned PDF pages: pypdfium2 draws each page, tesseract reads it (via pytesseract).

Used only when the tesseract program is installed (Debian's tesseract-ocr); the import process's
memory and time limits cover it, and tesseract runs in that process's group, so a job killed at
its limit takes tesseract with it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

# Scanned text is read best at about 300 dots per inch; PDF pages measure 72 points per inch.
RENDER_SCALE = 300 / 72


def available(command: str | None) -> bool:
    """Whether text recognition is switched on and its program is installed."""
    return bool(command) and shutil.which(command or "") is not None


def recognise_pages(data: bytes, pages: list[int], *, command: str, languages: str) -> Iterator[tuple[int, str]]:
    """Yield each listed page's number (from 1) with the text tesseract reads on it."""
    import pypdfium2
    import pytesseract

    pytesseract.pytesseract.tesseract_cmd = command
    document = pypdfium2.PdfDocument(data)
    try:
        for number in pages:
            page = document[number - 1]
            try:
                image = page.render(scale=RENDER_SCALE, grayscale=True).to_pil()
            finally:
                page.close()
            yield number, pytesseract.image_to_string(image, lang=languages)
    finally:
        document.close()
