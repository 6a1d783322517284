"""Recognising files by content and extracting their text, one format at a time."""

from __future__ import annotations

import pytest

from webapp.documents.parsing import ParseError, detect_kind, parse

from .. import samples


def test_pdf_text_keeps_page_numbers() -> None:
    parsed = parse("report.pdf", samples.pdf("Scope of the first release.", "Risks and open questions."))
    assert parsed.kind == "pdf" and parsed.content_type == "application/pdf"
    assert [(section.page, section.text) for section in parsed.sections] == [
        (1, "Scope of the first release."),
        (2, "Risks and open questions."),
    ]
    assert parsed.meta["pages"] == 2


def test_pdf_lines_end_as_plain_line_ends() -> None:
    text = "First line of the scope, long enough to wrap onto a second line when the page is this narrow. " * 3
    [section] = parse("scope.pdf", samples.pdf(text.strip())).sections
    assert "\r" not in section.text and "\n" in section.text
    assert " ".join(section.text.split()) == " ".join(text.split())


def test_a_pdf_whose_page_count_lies_is_refused() -> None:
    # pypdf counts the pages it finds, PDFium believes /Count: a page only one of them sees
    # would reach the text extractor without its operations counted.
    data = samples.pdf("alpha", "beta").replace(b"/Count 2", b"/Count 5")
    with pytest.raises(ParseError, match="list of pages is inconsistent"):
        parse("lying.pdf", data)


def test_pdf_is_recognised_by_content_whatever_its_name() -> None:
    assert detect_kind("scan-0001.bin", samples.pdf("Hello")) == "pdf"


def test_password_protected_pdf_is_refused() -> None:
    with pytest.raises(ParseError, match="protected by a password"):
        parse("secret.pdf", samples.pdf("Confidential", password="s3cret"))


def test_pdf_with_an_empty_user_password_is_read() -> None:
    parsed = parse("locked-printing.pdf", samples.pdf("Readable by anyone", password=""))
    assert parsed.sections[0].text == "Readable by anyone"


def test_damaged_pdf_is_refused() -> None:
    with pytest.raises(ParseError, match="could not be read; it may be damaged"):
        parse("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ntrailer garbage")


def test_pdf_without_text_says_it_may_be_a_scan() -> None:
    with pytest.raises(ParseError, match="scanned image"):
        parse("scan.pdf", samples.pdf(""))


def test_docx_paragraphs_and_tables_in_reading_order() -> None:
    data = samples.docx_file(
        ["Purpose of the system.", "Stakeholders below."],
        table=[["Role", "Name"], ["Sponsor", "Maria"]],
        after=["Closing words."],
    )
    parsed = parse("brief.docx", data)
    assert parsed.kind == "docx"
    assert parsed.sections[0].text == (
        "Purpose of the system.\n\nStakeholders below.\n\nRole | Name\nSponsor | Maria\n\nClosing words."
    )
    assert parsed.meta["tables"] == 1


def test_docx_zip_bomb_is_refused_before_parsing() -> None:
    with pytest.raises(ParseError, match="expands to far more data"):
        parse("innocent.docx", samples.zip_bomb_docx())


def test_zip_that_is_not_an_office_document_is_refused() -> None:
    with pytest.raises(ParseError, match="ZIP archive, not a Word"):
        parse("bundle.docx", samples.plain_zip())


def test_xlsx_rows_keep_sheet_row_numbers_and_typed_values() -> None:
    data = samples.xlsx({"Budget": samples.BUDGET_ROWS, "Empty": [], "People": [["Name"], ["Ana"]]})
    parsed = parse("budget.xlsx", data)
    budget, people = parsed.tables
    assert budget.name == "Budget" and budget.columns == ["Item", "Cost", "Ordered"]
    assert budget.rows == [(2, ["Laptop", "1200", "2026-03-01"]), (4, ["Desk", "300.5", ""])]
    assert people.rows == [(2, ["Ana"])]
    assert parsed.meta["sheets"] == [
        {"name": "Budget", "columns": ["Item", "Cost", "Ordered"], "rows": 2},
        {"name": "People", "columns": ["Name"], "rows": 1},
    ]


def test_xlsx_missing_header_labels_get_column_names() -> None:
    parsed = parse("odd.xlsx", samples.xlsx({"S": [["Id", None], [1, "x", "extra"]]}))
    assert parsed.tables[0].columns == ["Id", "Column 2", "Column 3"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_csv_in_any_common_encoding_is_decoded(encoding: str) -> None:
    parsed = parse("people.csv", samples.CSV_TEXT.encode(encoding))
    [table] = parsed.tables
    assert table.columns == ["Name", "City", "Note"]
    assert table.rows[0] == (2, ["Renée", "Zürich", "café crème costs €5"])
    assert table.rows[1] == (3, ["Jürgen", "Köln", "Größe passt"])


def test_utf16_without_a_byte_order_mark_is_decoded() -> None:
    parsed = parse("people.csv", samples.CSV_TEXT.encode("utf-16-le"))
    assert parsed.tables[0].rows[0][1][0] == "Renée"


def test_text_and_markdown_are_decoded_and_cleaned() -> None:
    parsed = parse("notes.md", "# Título\r\n\r\nLínea uno".encode("cp1252"))
    assert parsed.kind == "md" and parsed.content_type == "text/markdown"
    assert parsed.sections[0].text == "# Título\n\nLínea uno"
    # Control characters would break the page and the search markers.
    assert parse("bell.txt", b"ring\x07 the\x02 bell\x00").sections[0].text == "ring the bell"
    assert parse("notes.txt", b"plain words").kind == "txt"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "The file is empty."),
        ("photo.png", samples.PNG, "an image"),
        ("old.doc", samples.OLD_WORD, "Save it as .docx"),
        ("report.pdf", b"just some text pretending", "named .pdf but its content is not a PDF"),
        ("blob.dat", bytes(range(256)) * 64, "not a supported type"),
        ("blank.txt", b"   \n\n  ", "No text could be found"),
    ],
)
def test_unusable_files_get_a_clear_reason(name: str, data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(name, data)


def test_the_pdf_the_reading_processes_warm_up_on_is_a_valid_one() -> None:
    import io

    import pypdf

    from webapp.documents import pdf_reader

    data = pdf_reader._one_line_pdf(b"Ready.")
    assert pypdf.PdfReader(io.BytesIO(data), strict=True).pages[0].extract_text() == "Ready."
    pdf_reader.warm_up()
