"""Split extracted text into passages of about 1,000-1,500 characters: the unit of search and citation."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from .parsed import ParsedDocument, Section, Table
from .tables import row_line

MIN_CHARS = 1000
MAX_CHARS = 1500

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
# A sentence's last mark (and a closing quote or bracket after it), then the spaces before the next.
# Starting at the mark rather than looking behind each space keeps the scan quick.
_SENTENCE_END = re.compile(r"([.!?…][\"'’”)\]]?)\s+(?=\S)")


@dataclass(frozen=True)
class Chunk:
    text: str
    page: int | None = None
    sheet: str | None = None


class _Piece(NamedTuple):
    text: str
    starts_paragraph: bool


def chunk_document(parsed: ParsedDocument) -> list[Chunk]:
    """Cut a parsed document into passages that never cross a page or a sheet."""
    chunks = [chunk for section in parsed.sections for chunk in chunk_section(section)]
    chunks += [chunk for table in parsed.tables for chunk in chunk_table(table)]
    return chunks


def chunk_section(section: Section) -> list[Chunk]:
    """Cut prose at paragraph ends once a passage is long enough, else at sentence ends."""
    return [Chunk(text, page=section.page) for text in _pack(_pieces(section.text), "\n\n")]


def chunk_table(table: Table) -> list[Chunk]:
    """Cut a table between rows; every row is one line carrying its labels and row number."""
    lines = (_Piece(row_line(table, number, cells), True) for number, cells in table.rows)
    return [Chunk(text, sheet=table.name) for text in _pack(lines, "\n")]


def _pieces(text: str) -> Iterator[_Piece]:
    for paragraph in _PARAGRAPH_BREAK.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        starts = True
        for sentence in _sentences(paragraph):
            for part in _hard_split(sentence.strip()):
                yield _Piece(part, starts)
                starts = False


def _sentences(paragraph: str) -> Iterator[str]:
    start = 0
    for end in _SENTENCE_END.finditer(paragraph):
        yield paragraph[start : end.end(1)]
        start = end.end()
    yield paragraph[start:]


def _hard_split(text: str) -> Iterator[str]:
    # A sentence longer than a passage (a table dump, a list without full stops) is cut at a space.
    # Positions move along the text rather than slicing off its rest, so the cost stays linear.
    start, end = 0, len(text)
    while end - start > MAX_CHARS:
        cut = text.rfind(" ", start + MIN_CHARS, start + MAX_CHARS)
        cut = cut if cut > start else start + MAX_CHARS
        yield text[start:cut].rstrip()
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        yield text[start:]


def _pack(pieces: Iterable[_Piece], paragraph_joiner: str) -> Iterator[str]:
    current = ""
    for piece in pieces:
        too_long = len(current) + len(piece.text) + 2 > MAX_CHARS
        natural_end = piece.starts_paragraph and len(current) >= MIN_CHARS
        if current and (too_long or natural_end):
            yield current
            current = ""
        joiner = paragraph_joiner if piece.starts_paragraph else " "
        current = f"{current}{joiner}{piece.text}" if current else piece.text
    if current:
        yield current
