"""The traceability matrix as a workbook: requirement → story → acceptance criteria → source passage.

One row per source of each item: a requirement's own sources first, then each story that
implements it, then the stories that implement no requirement in the backlog. An item
without a source still has its row, saying so, since that gap is what the matrix is for.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from ..models import ArtifactItem
from .backlog import Backlog

COLUMNS = [
    "Requirement",
    "Requirement title",
    "Story",
    "Story title",
    "Acceptance criteria",
    "Source document",
    "Page",
    "Passage",
    "Excerpt",
    "Source status",
    "Artifact",
]
WIDTHS = [13, 30, 10, 30, 60, 28, 8, 9, 60, 15, 28]


def matrix_rows(found: Backlog) -> Iterator[list[Any]]:
    """The matrix's rows, in order, as plain values."""
    for requirement in found.requirements:
        yield from _rows(requirement, None)
        for story in found.stories_of(requirement):
            yield from _rows(requirement, story)
    for story in found.stories:
        if found.requirement_of(story) is None:
            yield from _rows(None, story)


def _rows(requirement: ArtifactItem | None, story: ArtifactItem | None) -> Iterator[list[Any]]:
    item = story or requirement
    assert item is not None
    traced = [
        requirement.key if requirement else (story.requirement_key or "" if story else ""),
        requirement.title if requirement else "",
        story.key if story else "",
        story.title if story else "",
        "\n\n".join(item.acceptance_criteria or []),
    ]
    if not item.sources:
        yield traced + ["", None, "", "", "no source", item.artifact.title]
    for source in item.sources:
        where = source.page if source.page is not None else (source.sheet or None)
        yield traced + [
            source.document_name,
            where,
            f"§{source.ordinal}",
            source.excerpt,
            "source removed" if source.removed else "cited",
            item.artifact.title,
        ]


def matrix_xlsx(found: Backlog, title: str) -> bytes:
    """The matrix as an .xlsx file with one sheet, its header frozen and filterable."""
    import openpyxl  # only here: the library is large and exports are rare
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Traceability"
    workbook.properties.title = title
    sheet.append(COLUMNS)
    for row in matrix_rows(found):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # "=HYPERLINK(…)" in model text stays text, never a formula
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
