"""An artifact version as a Markdown, Word or PDF download.

Word and PDF are built from the same blocks (blocks.py): headings, paragraphs with bold,
italic, struck-out, code and linked text, bullet and numbered lists, tables, code blocks,
quotes and rules.
"""

from __future__ import annotations

import re
import unicodedata
from io import BytesIO

from ..models import Artifact
from . import blocks
from .blocks import Block
from .service import TYPE_LABELS

_NOT_SLUG = re.compile(r"[^a-z0-9]+")

MIMETYPES = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def filename(artifact: Artifact, extension: str) -> str:
    """A download name from the title and the version, ASCII only, e.g. login-stories-v2.docx."""
    ascii_title = unicodedata.normalize("NFKD", artifact.title).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_title.lower()).strip("-")[:60].strip("-") or "artifact"
    return f"{slug}-v{artifact.version}.{extension}"


def subtitle(artifact: Artifact) -> str:
    """The line under the title: type, version and date."""
    label = TYPE_LABELS.get(artifact.artifact_type, artifact.artifact_type)
    return f"{label} · version {artifact.version} · {artifact.created_at:%d %b %Y}"


def as_markdown(artifact: Artifact) -> bytes:
    return artifact.content_markdown.encode("utf-8")


# The writers import python-docx and fpdf2 (with its font and image libraries), tens of
# megabytes that a server process should only pay for once someone exports.
def as_docx(artifact: Artifact) -> bytes:
    from .docx_writer import write_docx

    buffer = BytesIO()
    write_docx(buffer, artifact.title, subtitle(artifact), body(artifact))
    return buffer.getvalue()


def as_pdf(artifact: Artifact) -> bytes:
    from .pdf_writer import write_pdf

    return write_pdf(artifact.title, subtitle(artifact), body(artifact))


def body(artifact: Artifact) -> list[Block]:
    """The content's blocks, without a first heading that only repeats the title."""
    found = blocks.parse(artifact.content_markdown)
    if found and isinstance(found[0], blocks.Heading) and found[0].level == 1:
        if blocks.plain_text(found[0].runs).strip().casefold() == artifact.title.casefold():
            return found[1:]
    return found
