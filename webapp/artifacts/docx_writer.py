"""Document blocks as a Word (.docx) file, with python-docx."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph as DocxParagraph
from docx.text.run import Run as DocxRun

from .blocks import Block, CodeBlock, Heading, ListBlock, Paragraph, Quote, Rule, Run, Table

CODE_FONT = "Courier New"
LINK_COLOUR = RGBColor(0x2F, 0x5B, 0xD3)
MAX_LIST_DEPTH = 3  # the default template styles lists three levels deep


def write_docx(target: IO[bytes], title: str, subtitle: str, content: Sequence[Block]) -> None:
    """Write a titled document of `content` to `target`."""
    document = Document()
    document.core_properties.title = title
    document.add_heading(title, level=0)
    document.add_paragraph(subtitle, style="Subtitle")
    _DocxWriter(document).blocks(content)
    document.save(target)


class _DocxWriter:
    def __init__(self, document: DocxDocument) -> None:
        self.document = document

    def blocks(self, content: Sequence[Block], *, style: str | None = None, depth: int = 0) -> None:
        """Write blocks; `style` is the paragraph style of a quote or a list item's later paragraphs."""
        for block in content:
            self.block(block, style=style, depth=depth)

    def block(self, block: Block, *, style: str | None, depth: int) -> None:
        if isinstance(block, Heading):
            add_runs(self.document.add_heading(level=min(block.level, 9)), block.runs)
        elif isinstance(block, Paragraph):
            add_runs(self.document.add_paragraph(style=style), block.runs)
        elif isinstance(block, ListBlock):
            self.list(block, depth + 1)
        elif isinstance(block, Table):
            self.table(block)
        elif isinstance(block, CodeBlock):
            self.code(block, style)
        elif isinstance(block, Quote):
            self.blocks(block.blocks, style="Quote", depth=depth)
        elif isinstance(block, Rule):
            _bottom_border(self.document.add_paragraph())

    def list(self, block: ListBlock, depth: int) -> None:
        level = min(depth, MAX_LIST_DEPTH)
        suffix = f" {level}" if level > 1 else ""
        style = ("List Number" if block.ordered else "List Bullet") + suffix
        numbering = _restarted_numbering(self.document, style, block.start) if block.ordered else None
        for item in block.items:
            first, rest = (item[0], item[1:]) if item and isinstance(item[0], Paragraph) else (Paragraph([]), item)
            paragraph = self.document.add_paragraph(style=style)
            add_runs(paragraph, first.runs)
            if numbering is not None:
                _use_numbering(paragraph, numbering)
            self.blocks(rest, style=f"List Continue{suffix}", depth=depth)

    def table(self, block: Table) -> None:
        rows = ([block.header] if block.header else []) + block.rows
        columns = max((len(row) for row in rows), default=0)
        if not columns:
            return
        table = self.document.add_table(rows=len(rows), cols=columns)
        table.style = "Table Grid"
        for index, (cells, row) in enumerate(zip(rows, table.rows, strict=False)):
            for runs, cell in zip(cells, row.cells, strict=False):
                add_runs(cell.paragraphs[0], runs, bold=index == 0 and bool(block.header))

    def code(self, block: CodeBlock, style: str | None) -> None:
        run = self.document.add_paragraph(style=style).add_run(block.text)  # newlines become line breaks
        run.font.name = CODE_FONT
        run.font.size = Pt(9)


def add_runs(paragraph: DocxParagraph, runs: Sequence[Run], *, bold: bool = False) -> None:
    """Add styled text to a paragraph; safe links become real hyperlinks."""
    for piece in runs:
        run = paragraph.add_run(piece.text)
        run.bold = piece.bold or bold or None
        run.italic = piece.italic or None
        run.font.strike = piece.strike or None
        if piece.code:
            run.font.name = CODE_FONT
        if piece.safe_href:
            _into_hyperlink(paragraph, run, piece.safe_href)


def _into_hyperlink(paragraph: DocxParagraph, run: DocxRun, href: str) -> None:
    relation = paragraph.part.relate_to(href, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), relation)
    run.font.underline = True
    run.font.color.rgb = LINK_COLOUR
    link.append(run._r)  # moves the run inside the link
    paragraph._p.append(link)


def _restarted_numbering(document: DocxDocument, style: str, start: int) -> int:
    """A new numbering instance for one list, so it counts from `start`.

    A "List Number" style has one counter for the whole document; without this,
    a second numbered list would carry on from the first one's last number.
    """
    numbering = document.part.numbering_part.element
    style_number = document.styles[style].element.pPr.numPr.numId.val
    abstract = numbering.num_having_numId(style_number).abstractNumId.val
    instance = numbering.add_num(abstract)
    instance.add_lvlOverride(ilvl=0).add_startOverride(start)
    return instance.numId


def _use_numbering(paragraph: DocxParagraph, number_id: int) -> None:
    numbering = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    numbering.get_or_add_ilvl().val = 0
    numbering.get_or_add_numId().val = number_id


def _bottom_border(paragraph: DocxParagraph) -> None:
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "auto")):
        bottom.set(qn(f"w:{name}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)
