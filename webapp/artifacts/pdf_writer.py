"""Document blocks as a PDF, with fpdf2 and the DejaVu fonts shipped in fonts/."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .blocks import Block, CodeBlock, Heading, ListBlock, Paragraph, Quote, Rule, Run, Table, plain_text

FONTS = Path(__file__).resolve().parent / "fonts"
SANS, MONO = "DejaVu", "DejaVuMono"
BODY_SIZE = 10.5
HEADING_SIZES = {1: 17.0, 2: 14.5, 3: 12.5}
INDENT = 6.0  # mm per list level or quote
TEXT, MUTED, LINK = (28, 35, 48), (95, 107, 122), (47, 91, 211)


def write_pdf(title: str, subtitle: str, content: Sequence[Block]) -> bytes:
    """A titled A4 PDF of `content`."""
    pdf = _new_pdf(title)
    writer = _PdfWriter(pdf)
    writer.title(title, subtitle)
    writer.blocks(content)
    return bytes(pdf.output())


def _new_pdf(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    for style, name in (
        ("", "DejaVuSans"),
        ("B", "DejaVuSans-Bold"),
        ("I", "DejaVuSans-Oblique"),
        ("BI", "DejaVuSans-BoldOblique"),
    ):
        pdf.add_font(SANS, style, FONTS / f"{name}.ttf")
    pdf.add_font(MONO, "", FONTS / "DejaVuSansMono.ttf")
    pdf.set_title(title)
    pdf.set_creator("BA Assistant")
    pdf.add_page()
    return pdf


def _line_height(size: float) -> float:
    return size * 0.5  # points to millimetres, with some leading


class _PdfWriter:
    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    def title(self, title: str, subtitle: str) -> None:
        self.runs([Run(title)], size=20, bold=True)
        self.runs([Run(subtitle)], size=9.5, colour=MUTED)
        self.pdf.ln(4)

    def blocks(self, content: Sequence[Block], *, colour: tuple[int, int, int] = TEXT) -> None:
        for block in content:
            self.block(block, colour)

    def block(self, block: Block, colour: tuple[int, int, int]) -> None:
        if isinstance(block, Heading):
            self.pdf.ln(2)
            self.runs(block.runs, size=HEADING_SIZES.get(block.level, 11.5), bold=True, colour=colour)
        elif isinstance(block, Paragraph):
            self.runs(block.runs, colour=colour)
        elif isinstance(block, ListBlock):
            self.list(block, colour)
        elif isinstance(block, Table):
            self.table(block)
        elif isinstance(block, CodeBlock):
            self.code(block)
        elif isinstance(block, Quote):
            with self.indent(INDENT):
                self.blocks(block.blocks, colour=MUTED)
        elif isinstance(block, Rule):
            self.rule()

    def runs(
        self, runs: Sequence[Run], *, size: float = BODY_SIZE, bold: bool = False, colour: tuple[int, int, int] = TEXT
    ) -> None:
        """Write styled text from the current position, wrapping at the margins; end the paragraph."""
        height = _line_height(size)
        for piece in runs:
            link = piece.safe_href or ""
            self.pdf.set_font(*_font(piece, bold=bold, link=bool(link)), size=size)
            self.pdf.set_text_color(*(LINK if link else colour))
            self.pdf.write(height, piece.text, link=link)
        self.pdf.ln(height)
        self.pdf.ln(1.5)

    def list(self, block: ListBlock, colour: tuple[int, int, int]) -> None:
        with self.indent(INDENT):
            for number, item in enumerate(block.items, start=block.start):
                self.marker(f"{number}." if block.ordered else "•")
                self.blocks(item or [Paragraph([])], colour=colour)

    def marker(self, text: str) -> None:
        """Put a list marker in the gutter left of the margin, on the item's first line."""
        pdf = self.pdf
        pdf.set_font(SANS, "", BODY_SIZE)
        pdf.set_text_color(*TEXT)
        pdf.set_x(pdf.l_margin - INDENT)
        pdf.cell(INDENT - 1, _line_height(BODY_SIZE), text, align="R", new_x=XPos.LMARGIN, new_y=YPos.TOP)
        pdf.set_x(pdf.l_margin)

    def table(self, block: Table) -> None:
        rows = ([block.header] if block.header else []) + block.rows
        columns = max((len(row) for row in rows), default=0)
        if not columns:
            return
        self.pdf.set_font(SANS, "", BODY_SIZE - 1)
        self.pdf.set_text_color(*TEXT)
        with self.pdf.table(
            first_row_as_headings=bool(block.header),
            line_height=_line_height(BODY_SIZE),
            text_align="LEFT",
            align="LEFT",
        ) as table:
            for cells in rows:
                texts = [plain_text(runs) for runs in cells]
                table.row(texts + [""] * (columns - len(texts)))
        self.pdf.ln(3)

    def code(self, block: CodeBlock) -> None:
        pdf = self.pdf
        pdf.set_font(MONO, "", 9)
        pdf.set_text_color(*TEXT)
        pdf.set_fill_color(240, 242, 245)
        pdf.multi_cell(0, 4.5, block.text, fill=True, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)

    def rule(self) -> None:
        pdf = self.pdf
        pdf.set_draw_color(*MUTED)
        pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
        pdf.ln(4)

    @contextmanager
    def indent(self, millimetres: float) -> Iterator[None]:
        """Move the left margin in for a list or quote, and back out after it."""
        pdf = self.pdf
        pdf.set_left_margin(pdf.l_margin + millimetres)
        pdf.set_x(pdf.l_margin)
        try:
            yield
        finally:
            pdf.set_left_margin(pdf.l_margin - millimetres)
            pdf.set_x(pdf.l_margin)


def _font(piece: Run, *, bold: bool, link: bool) -> tuple[str, str]:
    """The family and style for a run: code in the mono face (which has one style)."""
    decoration = ("U" if link else "") + ("S" if piece.strike else "")
    if piece.code:
        return MONO, decoration
    emphasis = ("B" if piece.bold or bold else "") + ("I" if piece.italic else "")
    return SANS, emphasis + decoration
