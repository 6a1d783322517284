"""Reading Markdown into blocks, line diffs, and the export files built from them."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import docx
from pypdf import PdfReader

from webapp.artifacts import blocks, export
from webapp.artifacts.blocks import CodeBlock, Heading, ListBlock, Paragraph, Quote, Rule, Run, Table
from webapp.artifacts.service import DiffLine, diff_lines
from webapp.models import Artifact


def artifact(content: str, title: str = "Checkout stories", version: int = 1) -> Artifact:
    return Artifact(
        id="a",
        thread_id="t",
        artifact_type="user_stories",
        title=title,
        content_markdown=content,
        version=version,
        created_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
    )


def test_inline_styles_become_runs() -> None:
    [paragraph] = blocks.parse("Pay **by *card*** with `code`, ~~cash~~ and [help](https://h.example)\nsoon")
    assert isinstance(paragraph, Paragraph)
    assert paragraph.runs == [
        Run("Pay "),
        Run("by ", bold=True),
        Run("card", bold=True, italic=True),
        Run(" with "),
        Run("code", code=True),
        Run(", "),
        Run("cash", strike=True),
        Run(" and "),
        Run("help", href="https://h.example"),
        Run(" "),
        Run("soon"),
    ]


def test_block_structure_is_kept() -> None:
    parsed = blocks.parse(
        "# Title\n\n3. three\n4. four\n   - nested\n\n> quoted\n\n---\n\n```sql\nselect 1;\n```\n"
        "\n| A | B |\n|---|---|\n| 1 |\n"
    )
    heading, numbered, quote, rule, code, table = parsed
    assert heading == Heading(1, [Run("Title")])
    assert isinstance(numbered, ListBlock) and numbered.ordered and numbered.start == 3
    assert numbered.items[1][1] == ListBlock(False, [[Paragraph([Run("nested")])]])
    assert quote == Quote([Paragraph([Run("quoted")])]) and rule == Rule()
    assert code == CodeBlock("select 1;", "sql")
    assert table == Table([[Run("A")], [Run("B")]], [[[Run("1")], []]])


def test_html_and_images_stay_text() -> None:
    [paragraph] = blocks.parse("<b>hi</b> ![plan](https://img.example/p.png)")
    assert blocks.plain_text(paragraph.runs) == "<b>hi</b> [plan: https://img.example/p.png]"


def test_diff_marks_added_removed_and_context_lines() -> None:
    lines = diff_lines("a\nb\nc\n", "a\nB\nc\nd\n")
    assert lines == [
        DiffLine("hunk", "Lines 1–4"),
        DiffLine("same", "a"),
        DiffLine("removed", "b"),
        DiffLine("added", "B"),
        DiffLine("same", "c"),
        DiffLine("added", "d"),
    ]
    assert diff_lines("same\n", "same\n") == []
    assert diff_lines("--- x\n", "+++ y\n") == [
        DiffLine("hunk", "Line 1"),
        DiffLine("removed", "--- x"),
        DiffLine("added", "+++ y"),
    ]
    assert diff_lines("gone\n", "")[0] == DiffLine("hunk", "Line 1")


def test_filenames_are_ascii_slugs_with_the_version() -> None:
    assert export.filename(artifact("x", "Café: Stories / v2!", 3), "pdf") == "cafe-stories-v2-v3.pdf"
    assert export.filename(artifact("x", "请求"), "md") == "artifact-v1.md"


def test_a_first_heading_repeating_the_title_is_left_out() -> None:
    assert export.body(artifact("# checkout STORIES\n\nText")) == [Paragraph([Run("Text")])]
    assert len(export.body(artifact("# Something else\n\nText"))) == 2


def test_each_numbered_list_in_word_starts_again() -> None:
    document = docx.Document(BytesIO(export.as_docx(artifact("1. a\n2. b\n\nText\n\n1. c\n"))))
    numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
    ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert [p.text for p in numbered] == ["a", "b", "c"] and ids[0] == ids[1] != ids[2]


def test_word_links_are_hyperlinks_and_unsafe_ones_are_not() -> None:
    document = docx.Document(BytesIO(export.as_docx(artifact("[site](https://x.example) [bad](javascript:alert(1))"))))
    [link] = document.paragraphs[2].hyperlinks
    assert link.address == "https://x.example" and link.text == "site"
    assert "bad" in document.paragraphs[2].text


def test_pdf_writes_every_kind_of_block() -> None:
    content = "## Греческий αβγ\n\n- one\n  1. two\n\n> quote\n\n---\n\n```\ncode\n```\n\n| A |\n|---|\n| b |\n"
    reader = PdfReader(BytesIO(export.as_pdf(artifact(content))))
    text = reader.pages[0].extract_text()
    for expected in ("Checkout stories", "Греческий αβγ", "one", "1.", "two", "quote", "code", "A", "b"):
        assert expected in text
    assert reader.metadata.title == "Checkout stories"
