"""Which passages a chat may cite, and what an item keeps of each one it cites."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from ..extensions import db
from ..models import Document, DocumentChunk, Thread
from .items import EXCERPT_CHARS, Citation


def visible_to(thread: Thread) -> sa.ColumnElement[bool]:
    """The documents a chat's replies may read: its project's, or (with no project) its own; the owner's only."""
    owner = Document.project_id == thread.project_id if thread.project_id else Document.thread_id == thread.id
    return sa.and_(Document.user_id == thread.user_id, owner)


def citations(thread: Thread, passage_ids: Iterable[int]) -> dict[int, Citation]:
    """The passages among `passage_ids` that the chat may cite, by id; the others are left out."""
    ids = list(passage_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(DocumentChunk, Document.filename)
        .join(Document, Document.id == DocumentChunk.document_id)
        .where(DocumentChunk.id.in_(ids), visible_to(thread))
    ).all()
    return {chunk.id: citation(chunk, filename) for chunk, filename in rows}


def citation(chunk: DocumentChunk, filename: str) -> Citation:
    return Citation(chunk.id, chunk.document_id, filename, chunk.ordinal, chunk.page, chunk.sheet, excerpt(chunk.text))


def excerpt(text: str) -> str:
    """The start of a passage, cut at a word, for a citation that may outlive its document."""
    flat = " ".join(text.split())
    if len(flat) <= EXCERPT_CHARS:
        return flat
    return flat[:EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"
