"""Search over document passages, scoped to what the user owns; the full-text module does the matching."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from markupsafe import Markup

from .. import fulltext
from ..extensions import db
from ..models import Document, DocumentChunk

MAX_LIMIT = 100
PASSAGES = fulltext.Source(
    fts_table="document_chunks_fts",
    gin_index="ix_document_chunks_fts",
    rowid=DocumentChunk.id,
    text=DocumentChunk.text,
    vector=sa.literal_column("document_chunks.text_fts"),
)


@dataclass(frozen=True)
class SearchHit:
    document: Document
    chunk: DocumentChunk
    snippet: Markup  # escaped text; only <mark> tags
    score: float  # higher is better; comparable within one search only


def search_chunks(
    *, user_id: str, query: str, project_id: str | None = None, thread_id: str | None = None, limit: int = 20
) -> list[SearchHit]:
    """Find the passages that best match `query` among the user's stored documents, best first.

    With `project_id` and/or `thread_id`, only that project's and/or thread's documents are
    searched. Passages holding every word come first; if none does, passages holding any word.
    """
    terms = fulltext.query_terms(query)
    statement = _scoped(user_id, project_id, thread_id)
    limit = max(1, min(limit, MAX_LIMIT))
    matches = fulltext.best_matches(statement, PASSAGES, terms, limit=limit)
    if not matches and len(terms) > 1:
        matches = fulltext.best_matches(statement, PASSAGES, terms, limit=limit, any_term=True)
    return _hits(matches)


def _scoped(user_id: str, project_id: str | None, thread_id: str | None) -> sa.Select[tuple[str]]:
    statement = (
        sa.select(DocumentChunk.document_id)
        .join(Document, Document.id == DocumentChunk.document_id)
        .where(Document.user_id == user_id, Document.status == "stored")
    )
    owners = []
    if project_id is not None:
        owners.append(Document.project_id == project_id)
    if thread_id is not None:
        owners.append(Document.thread_id == thread_id)
    return statement.where(sa.or_(*owners)) if owners else statement


def _hits(matches: list[fulltext.Match]) -> list[SearchHit]:
    if not matches:
        return []
    ids = [match.row.fts_id for match in matches]
    pairs = db.session.execute(sa.select(DocumentChunk, Document).join(Document).where(DocumentChunk.id.in_(ids))).all()
    found = {chunk.id: (chunk, document) for chunk, document in pairs}
    return [
        SearchHit(found[match.row.fts_id][1], found[match.row.fts_id][0], match.snippet, match.score)
        for match in matches
        if match.row.fts_id in found
    ]


def highlighted_passage(chunk: DocumentChunk, query: str) -> Markup | None:
    """The passage's text with the words of `query` marked, as search matched them; None if none is in it."""
    return fulltext.highlight_all(PASSAGES, chunk.id, fulltext.query_terms(query))
