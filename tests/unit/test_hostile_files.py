"""Crafted files that once cost minutes or gigabytes: each is refused by a named limit, or read in linear time."""

from __future__ import annotations

import pytest

from webapp.documents.chunking import MAX_CHARS, chunk_section
from webapp.documents.parsing import ParseError, ReadingLimits, Section, parse

from .. import hostile, samples

LIMITS = ReadingLimits()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("pages", [1, 5])
def test_a_pdf_page_flooded_with_operators_is_refused_by_the_operator_budget(pages: int) -> None:
    with pytest.raises(ParseError, match=r"Page 1 holds more than the 100,000 drawing operations allowed per page"):
        parse("flood.pdf", hostile.pdf_operator_flood(pages=pages), LIMITS)


def test_the_operator_budget_is_a_setting() -> None:
    data = hostile.pdf_operator_flood(operations=3_000)
    assert parse("small.pdf", data, LIMITS).sections[0].text.startswith("abcabc")
    with pytest.raises(ParseError, match="more than the 1,000 drawing operations"):
        parse("small.pdf", data, ReadingLimits(pdf_max_operators=1_000))


@pytest.mark.timeout(10)
def test_csv_dialect_detection_cannot_be_sent_into_backtracking() -> None:
    parsed = parse("trap.csv", hostile.csv_sniffer_trap(), LIMITS)
    [table] = parsed.tables
    # Each quoted field runs over a line end: one column, a row per two lines.
    assert table.columns == ["x x"] and len(table.rows) == 10_499


def test_csv_dialect_is_still_detected_from_a_sample() -> None:
    semicolons = parse("people.csv", samples.CSV_TEXT.encode(), LIMITS).tables[0]
    assert semicolons.columns == ["Name", "City", "Note"]
    tabs = parse("t.csv", b"a\tb\tc\n1\t2\t3\n4\t5\t6\n", LIMITS).tables[0]
    assert tabs.columns == ["a", "b", "c"] and tabs.rows[1] == (3, ["4", "5", "6"])
    quoted = parse("q.csv", b'name,note\n"Ana","says ""hi"", twice"\n', LIMITS).tables[0]
    assert quoted.rows == [(2, ["Ana", 'says "hi", twice'])]
    pipes = parse("p.csv", b"id|name\n1|Ana\n2|Ben\n", LIMITS).tables[0]
    assert pipes.columns == ["id", "name"]


@pytest.mark.timeout(20)
def test_docx_parts_that_expand_past_the_total_budget_are_refused() -> None:
    with pytest.raises(ParseError, match=r"expands to 2\d\d MB when unpacked, more than the 100 MB allowed"):
        parse("headers.docx", hostile.docx_header_flood(), LIMITS)


@pytest.mark.timeout(20)
def test_an_xlsx_sheet_wider_than_the_cell_budget_is_refused() -> None:
    with pytest.raises(ParseError, match=r"16,384 columns.*more than the 5,000,000 table cells allowed in one file"):
        parse("far.xlsx", hostile.xlsx_far_column(), LIMITS)


def test_an_xlsx_sheet_with_a_lying_dimension_is_still_held_to_the_budget() -> None:
    data = samples.xlsx({"S": [["a", "b", "c"]] + [[n, n, n] for n in range(50)]})
    assert len(parse("ok.xlsx", data, ReadingLimits(max_cells=200)).tables[0].rows) == 50
    with pytest.raises(ParseError, match="more than the 100 table cells allowed in one file"):
        parse("big.xlsx", data, ReadingLimits(max_cells=100))


@pytest.mark.timeout(20)
def test_docx_cells_spanning_millions_of_columns_are_refused() -> None:
    with pytest.raises(
        ParseError, match=r"20 rows × 20,000,000 columns.*more than the 5,000,000 table cells allowed in one file"
    ):
        parse("spans.docx", hostile.docx_wide_spans(), LIMITS)


def test_docx_merged_cells_are_read_once() -> None:
    parsed = parse("spans.docx", hostile.docx_wide_spans(span=3, rows=2), LIMITS)
    assert parsed.sections[0].text == "Spans.\n\na | b\na | b"


@pytest.mark.timeout(30)
def test_text_without_full_stops_is_cut_in_linear_time() -> None:
    text = hostile.text_without_full_stops(24).decode()
    chunks = chunk_section(Section(text))
    assert all(len(chunk.text) <= MAX_CHARS for chunk in chunks)
    assert " ".join(chunk.text for chunk in chunks) == text.strip()
