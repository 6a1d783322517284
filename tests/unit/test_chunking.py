"""Passages of about 1,000-1,500 characters, cut where a reader would cut."""

from __future__ import annotations

from webapp.documents.chunking import MAX_CHARS, MIN_CHARS, chunk_document, chunk_section, chunk_table
from webapp.documents.parsing import ParsedDocument, Section, Table
from webapp.documents.tables import read_row, row_line


def _sentence(number: int) -> str:
    return f"Sentence number {number} describes one requirement of the ordering process in some detail."


def test_prose_is_cut_at_sentence_ends_within_the_size_range() -> None:
    text = " ".join(_sentence(number) for number in range(200))
    chunks = chunk_section(Section(text))
    assert len(chunks) > 5
    for chunk in chunks[:-1]:
        assert MIN_CHARS <= len(chunk.text) <= MAX_CHARS
        assert chunk.text.endswith("detail.")
    assert " ".join(chunk.text for chunk in chunks) == text


def test_prose_prefers_paragraph_ends_once_long_enough() -> None:
    paragraphs = [" ".join(_sentence(n) for n in range(start, start + 12)) for start in range(0, 60, 12)]
    chunks = chunk_section(Section("\n\n".join(paragraphs)))
    # Each paragraph is ~1,100 characters: long enough to stand alone, so no passage mixes two.
    assert [chunk.text for chunk in chunks] == paragraphs


def test_short_paragraphs_are_gathered_into_one_passage() -> None:
    chunks = chunk_section(Section("Goal.\n\nScope.\n\n\nOut of scope."))
    assert [chunk.text for chunk in chunks] == ["Goal.\n\nScope.\n\nOut of scope."]


def test_a_sentence_longer_than_a_passage_is_cut_at_spaces() -> None:
    text = " ".join(["word"] * 1000)
    chunks = chunk_section(Section(text))
    assert all(len(chunk.text) <= MAX_CHARS for chunk in chunks)
    assert " ".join(chunk.text for chunk in chunks) == text


def test_passages_never_cross_pages_and_remember_them() -> None:
    parsed = ParsedDocument("pdf", sections=[Section("First page.", page=1), Section("Second page.", page=2)])
    assert [(chunk.page, chunk.text) for chunk in chunk_document(parsed)] == [(1, "First page."), (2, "Second page.")]


def test_table_rows_carry_labels_and_are_never_split() -> None:
    table = Table(
        "Budget", ["Item", "Cost"], [(number, [f"Item {number}", str(number * 10)]) for number in range(2, 200)]
    )
    chunks = chunk_table(table)
    assert len(chunks) > 1 and all(chunk.sheet == "Budget" for chunk in chunks)
    lines = [line for chunk in chunks for line in chunk.text.split("\n")]
    assert lines[0] == "Budget, row 2\tItem: Item 2\tCost: 20"
    assert len(lines) == 198
    assert all(len(chunk.text) <= MAX_CHARS for chunk in chunks)


def test_a_row_line_reads_back_into_its_cells() -> None:
    table = Table(None, ["Name", "Notes", "Total"], [])
    line = row_line(table, 7, ["Ana", "", "Notes: x"])
    assert line == "Row 7\tName: Ana\tTotal: Notes: x"
    row = read_row(line, table.columns)
    assert (row.number, row.cells) == (7, ["Ana", "", "Notes: x"])
