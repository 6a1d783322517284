"""Word documents read as a stream: the body's paragraphs and tables in reading order.

Only word/document.xml is parsed, element by element, and each block is freed once read, so
memory stays flat however long the document is. A table's cells are counted with their spans
against the file's cell budget, never laid out span by span.
"""

from __future__ import annotations

import zipfile
from typing import Any

from . import office_xml
from .parsed import CellBudget, ParsedDocument, ReadingLimits, Section, clean_text

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_NAMESPACES = {"w": _W, "mc": _MC}
_P, _TBL, _TR, _TC = f"{{{_W}}}p", f"{{{_W}}}tbl", f"{{{_W}}}tr", f"{{{_W}}}tc"
_T, _TAB, _BR, _CR, _HYPHEN = f"{{{_W}}}t", f"{{{_W}}}tab", f"{{{_W}}}br", f"{{{_W}}}cr", f"{{{_W}}}noBreakHyphen"
_GRID_SPAN, _VAL = f"{{{_W}}}gridSpan", f"{{{_W}}}val"
# Run content in reading order; a drawing's fallback copy of the same text box is left out.
_RUN_CONTENT = "|".join(
    f".//w:r/w:{name}[not(ancestor::mc:Fallback)]" for name in ("t", "tab", "br", "cr", "noBreakHyphen")
)


def read_docx(archive: zipfile.ZipFile, limits: ReadingLimits) -> ParsedDocument:
    from lxml import etree  # only in the import process

    run_content = etree.XPath(_RUN_CONTENT, namespaces=_NAMESPACES)
    reader = _BodyReader(run_content, CellBudget(limits.max_cells))
    with archive.open("word/document.xml") as source:
        for event, element in office_xml.iterparse(source, ("start", "end")):
            reader.feed(event, element)
    text = "\n\n".join(block for block in reader.blocks if block)
    return ParsedDocument("docx", sections=[Section(clean_text(text))], meta={"tables": reader.tables})


class _BodyReader:
    """Turns iterparse events into the text of each top-level paragraph and table."""

    def __init__(self, run_content: Any, budget: CellBudget) -> None:
        self._run_content = run_content
        self._budget = budget
        self._open = {_P: 0, _TBL: 0}
        self.blocks: list[str] = []
        self.tables = 0

    def feed(self, event: str, element: Any) -> None:
        tag = element.tag
        if tag not in self._open:
            return
        if event == "start":
            self._open[tag] += 1
            return
        self._open[tag] -= 1
        if self._open[_P] or self._open[_TBL]:
            return  # inside a block: read with it
        if tag == _P:
            self.blocks.append(self._paragraph_text(element).strip())
        else:
            self.blocks.append(self._table_text(element))
            self.tables += 1
        office_xml.free(element)

    def _paragraph_text(self, paragraph: Any) -> str:
        parts = []
        for node in self._run_content(paragraph):
            if node.tag == _T:
                parts.append(node.text or "")
            elif node.tag == _TAB:
                parts.append("\t")
            elif node.tag == _HYPHEN:
                parts.append("-")
            elif node.get(f"{{{_W}}}type") in (None, "textWrapping") or node.tag == _CR:
                parts.append("\n")
        return "".join(parts)

    def _table_text(self, table: Any) -> str:
        rows = [row for row in table if row.tag == _TR]
        width = max((sum(_span(cell) for cell in row if cell.tag == _TC) for row in rows), default=0)
        self._budget.check(len(rows), width)
        self._budget.spend(len(rows) * width)
        lines = []
        for row in rows:
            cells = [self._cell_text(cell) for cell in row if cell.tag == _TC]
            line = " | ".join(cells)
            if line.strip(" |"):
                lines.append(line)
        return "\n".join(lines)

    def _cell_text(self, cell: Any) -> str:
        paragraphs = [self._paragraph_text(child) for child in cell if child.tag == _P]
        return " ".join(text.strip().replace("\n", " ") for text in paragraphs).strip()


def _span(cell: Any) -> int:
    properties = cell.find(f"{{{_W}}}tcPr")
    span = properties.find(_GRID_SPAN) if properties is not None else None
    try:
        return max(1, int(span.get(_VAL))) if span is not None else 1
    except (TypeError, ValueError):
        return 1
