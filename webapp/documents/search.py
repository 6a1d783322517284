"""Full-text search over document passages: the only code that knows the SQL dialect.

SQLite uses the FTS5 table `document_chunks_fts` (bm25 and snippet); PostgreSQL uses the stored
column `text_fts = to_tsvector('english', text)` and its GIN index (ts_rank and ts_headline).
Both follow the passages inside the same transaction: triggers on SQLite, a generated column on
PostgreSQL. Neither is described by the models; the migration makes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import sqlalchemy as sa
from markupsafe import Markup, escape

from ..extensions import db
from ..models import Document, DocumentChunk

MAX_TERMS = 24
MAX_TERM_LENGTH = 64
MAX_LIMIT = 100
# Snippets come back with these around each match; the text itself never holds them
# (parsing strips control characters), so after escaping they can only become <mark>.
_OPEN, _CLOSE = "\x02", "\x03"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SearchHit:
    document: Document
    chunk: DocumentChunk
    snippet: Markup  # escaped text; only <mark> tags
    score: float  # higher is better; comparable within one search only


@dataclass(frozen=True)
class _Scope:
    user_id: str
    project_id: str | None
    thread_id: str | None


def query_terms(query: str) -> list[str]:
    """Reduce a query to plain words, so quotes, operators and syntax characters are never syntax."""
    terms = [term[:MAX_TERM_LENGTH].lower() for term in _WORD.findall(query)]
    return list(dict.fromkeys(terms))[:MAX_TERMS]


def search_chunks(
    *, user_id: str, query: str, project_id: str | None = None, thread_id: str | None = None, limit: int = 20
) -> list[SearchHit]:
    """Find the passages that best match `query` among the user's documents, best first.

    With `project_id` and/or `thread_id`, only that project's and/or thread's documents are
    searched. Passages holding every word come first; if none does, passages holding any word.
    """
    terms = query_terms(query)
    if not terms:
        return []
    scope = _Scope(user_id, project_id, thread_id)
    limit = max(1, min(limit, MAX_LIMIT))
    rows = _run(terms, scope, limit, any_term=False)
    if not rows and len(terms) > 1:
        rows = _run(terms, scope, limit, any_term=True)
    return _hits(rows)


def _run(terms: list[str], scope: _Scope, limit: int, *, any_term: bool) -> Sequence[sa.Row[Any]]:
    if db.session.get_bind().dialect.name == "postgresql":
        return _postgres(terms, scope, limit, any_term=any_term)
    return _sqlite(terms, scope, limit, any_term=any_term)


def _scope_sql(scope: _Scope) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"user_id": scope.user_id}
    owners = []
    if scope.project_id is not None:
        owners.append("d.project_id = :project_id")
        params["project_id"] = scope.project_id
    if scope.thread_id is not None:
        owners.append("d.thread_id = :thread_id")
        params["thread_id"] = scope.thread_id
    where = "d.user_id = :user_id"
    if owners:
        where += " AND (" + " OR ".join(owners) + ")"
    return where, params


# Rank and cut to the best few first; the snippet is made for those few only.
_SQLITE_SQL = """
SELECT best.id, best.score, snippet(document_chunks_fts, 0, char(2), char(3), '…', 24) AS snippet
FROM (
    SELECT f.rowid AS id, -bm25(document_chunks_fts) AS score
    FROM document_chunks_fts AS f
    JOIN document_chunks AS c ON c.id = f.rowid
    JOIN documents AS d ON d.id = c.document_id
    WHERE document_chunks_fts MATCH :match AND {scope}
    ORDER BY score DESC, f.rowid
    LIMIT :limit
) AS best
JOIN document_chunks_fts ON document_chunks_fts.rowid = best.id
WHERE document_chunks_fts MATCH :match
ORDER BY best.score DESC, best.id
"""


def _sqlite(terms: list[str], scope: _Scope, limit: int, *, any_term: bool) -> Sequence[sa.Row[Any]]:
    # Each term quoted: FTS5 then reads AND, NEAR, *, ^, : and parentheses as plain text.
    match = (" OR " if any_term else " ").join(f'"{term}"' for term in terms)
    where, params = _scope_sql(scope)
    sql = sa.text(_SQLITE_SQL.format(scope=where))
    return db.session.execute(sql, {**params, "match": match, "limit": limit}).all()


_POSTGRES_SQL = """
WITH q AS (SELECT websearch_to_tsquery('english', :query) AS query)
SELECT best.id, best.score,
       ts_headline('english', c.text, q.query, :headline_options) AS snippet
FROM (
    SELECT c.id, ts_rank(c.text_fts, q.query) AS score
    FROM document_chunks AS c
    JOIN documents AS d ON d.id = c.document_id
    CROSS JOIN q
    WHERE c.text_fts @@ q.query AND {scope}
    ORDER BY score DESC, c.id
    LIMIT :limit
) AS best
JOIN document_chunks AS c ON c.id = best.id
CROSS JOIN q
ORDER BY best.score DESC, best.id
"""
_HEADLINE_OPTIONS = (
    f"StartSel={_OPEN}, StopSel={_CLOSE}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=' … '"
)


def _postgres(terms: list[str], scope: _Scope, limit: int, *, any_term: bool) -> Sequence[sa.Row[Any]]:
    # Each term quoted: websearch_to_tsquery then reads "or" and a leading "-" as words.
    query = (" or " if any_term else " ").join(f'"{term}"' for term in terms)
    where, params = _scope_sql(scope)
    sql = sa.text(_POSTGRES_SQL.format(scope=where))
    values = {**params, "query": query, "limit": limit, "headline_options": _HEADLINE_OPTIONS}
    return db.session.execute(sql, values).all()


def _hits(rows: Sequence[sa.Row[Any]]) -> list[SearchHit]:
    if not rows:
        return []
    ids = [row.id for row in rows]
    pairs = db.session.execute(
        sa.select(DocumentChunk, Document).join(Document).where(DocumentChunk.id.in_(ids))
    ).all()
    found = {chunk.id: (chunk, document) for chunk, document in pairs}
    return [
        SearchHit(found[row.id][1], found[row.id][0], highlight(row.snippet), float(row.score))
        for row in rows
        if row.id in found
    ]


def highlight(snippet: str) -> Markup:
    """Escape a raw snippet and turn its match markers into <mark> tags."""
    escaped = str(escape(snippet))
    return Markup(escaped.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>"))
