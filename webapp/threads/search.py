"""Search the user's chats: titles by LIKE, message text by the database's full-text index.

The only threads code that knows the SQL dialect: FTS5 with bm25() and snippet() on
SQLite, websearch_to_tsquery() with ts_rank() and ts_headline() on PostgreSQL (which
ranks the newest PG_RANKED_CANDIDATES matches, where SQLite ranks them all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape

from ..documents.search import query_terms
from ..extensions import db
from ..models import Message, Thread
from .service import like_pattern

TITLE_LIMIT = 20
MESSAGE_LIMIT = 50
# PostgreSQL ranks only this many of the newest matching messages (see _postgres_hits).
PG_RANKED_CANDIDATES = 500
QUERY_MAX = 200
# Private-use characters: the database wraps each match in them, and only they become <mark>.
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKERS = re.compile(f"([{_OPEN}{_CLOSE}])")
# A literal (not a bound parameter), so PostgreSQL matches the GIN index on to_tsvector('english', content).
_CONFIG = sa.literal_column("'english'")
_HEADLINE_OPTIONS = (
    f'StartSel={_OPEN}, StopSel={_CLOSE}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'
)


@dataclass(frozen=True)
class MessageHit:
    thread_id: str
    thread_title: str | None
    thread_type: str
    message_id: str
    role: str
    created_at: datetime
    snippet: Markup
    score: float


@dataclass(frozen=True)
class SearchResults:
    query: str
    titles: list[Thread]
    messages: list[MessageHit]

    @property
    def empty(self) -> bool:
        return not self.titles and not self.messages


def search_chats(user_id: str, query: str) -> SearchResults:
    """Chats whose title contains `query`, and messages that match it, best first."""
    query = " ".join(query.split())[:QUERY_MAX]
    if not query:
        return SearchResults(query, [], [])
    return SearchResults(query, search_titles(user_id, query), search_messages(user_id, query))


def search_titles(user_id: str, query: str, *, limit: int = TITLE_LIMIT) -> list[Thread]:
    statement = (
        sa.select(Thread)
        .where(Thread.user_id == user_id, Thread.title.ilike(like_pattern(query), escape="\\"))
        .order_by(Thread.last_activity_at.desc(), Thread.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(statement))


def search_messages(user_id: str, query: str, *, limit: int = MESSAGE_LIMIT) -> list[MessageHit]:
    if db.engine.dialect.name == "postgresql":
        rows = _postgres_hits(user_id, query, limit)
    else:
        match = fts5_query(query)
        rows = _sqlite_hits(user_id, match, limit) if match else []
    return [_hit(row) for row in rows]


def fts5_query(text: str) -> str:
    """FTS5 syntax for `text` taken as plain words: each word quoted, all of them required.

    Quoting every word means quotes, operators (AND, NEAR, *, ^, :) and column filters
    typed by a user are searched for as words instead of being parsed.
    """
    return " ".join(f'"{word}"' for word in query_terms(text))


def highlight(snippet: str) -> Markup:
    """Escape `snippet` and turn the database's match markers into balanced <mark> tags."""
    parts: list[str] = []
    inside = False
    for piece in _MARKERS.split(snippet):
        if piece in (_OPEN, _CLOSE):
            opening = piece == _OPEN
            if opening != inside:
                parts.append("<mark>" if opening else "</mark>")
                inside = opening
        elif piece:
            parts.append(str(escape(piece)))
    if inside:
        parts.append("</mark>")
    return Markup("".join(parts))


def _hit_columns() -> tuple[Any, ...]:
    return (Message.thread_id, Thread.title, Thread.thread_type, Message.id, Message.role, Message.created_at)


def _sqlite_hits(user_id: str, match: str, limit: int) -> list[sa.Row[Any]]:
    fts = sa.table("messages_fts", sa.column("rowid"))
    fts_name = sa.literal_column("messages_fts")
    statement = (
        sa.select(
            *_hit_columns(),
            sa.func.snippet(fts_name, 0, _OPEN, _CLOSE, "…", 16).label("snippet"),
            # bm25() is lower for better matches; negate it so higher is better on both backends.
            (-sa.func.bm25(fts_name)).label("score"),
        )
        .select_from(fts)
        .join(Message, sa.literal_column("messages.rowid") == fts.c.rowid)
        .join(Thread, Thread.id == Message.thread_id)
        .where(fts_name.op("MATCH")(match), Thread.user_id == user_id, Message.deleted_at.is_(None))
        .order_by(sa.literal_column("score").desc())
        .limit(limit)
    )
    return list(db.session.execute(statement))


# A literal, so the planner can match the partial index, which leaves streaming replies out.
_STREAMING = sa.literal_column("'streaming'")


def _postgres_hits(user_id: str, query: str, limit: int) -> list[sa.Row[Any]]:
    tsquery = sa.func.websearch_to_tsquery(_CONFIG, query)
    document = sa.func.to_tsvector(_CONFIG, Message.content)
    # Ranking re-parses each message (the index stores no tsvector), so only the newest
    # matches are ranked: the cost stays bounded however common the words are.
    candidates = (
        sa.select(Message.id)
        .join(Thread, Thread.id == Message.thread_id)
        .where(document.op("@@")(tsquery), Thread.user_id == user_id, Message.deleted_at.is_(None),
               Message.status != _STREAMING)
        .order_by(Message.created_at.desc())
        .limit(PG_RANKED_CANDIDATES)
    )
    ranked = (
        sa.select(*_hit_columns(), Message.content, sa.func.ts_rank(document, tsquery).label("score"))
        .join(Thread, Thread.id == Message.thread_id)
        .where(Message.id.in_(candidates.scalar_subquery()))
        .order_by(sa.literal_column("score").desc())
        .limit(limit)
        .subquery()
    )
    # Headlines are costly too, so they are made only for the page of best hits.
    headline = sa.func.ts_headline(_CONFIG, ranked.c.content, tsquery, _HEADLINE_OPTIONS)
    columns = [column for column in ranked.c if column.name != "content"]
    statement = sa.select(*columns, headline.label("snippet")).order_by(ranked.c.score.desc())
    return _without_sequential_scans(statement)


def _without_sequential_scans(statement: sa.Select[Any]) -> list[sa.Row[Any]]:
    # The planner prices to_tsvector() far below its real cost, so for a common word it
    # prefers re-parsing every message over reading the GIN index: 60x slower on 30,000
    # messages. SET LOCAL lasts until the transaction ends; RESET undoes it at once.
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    try:
        return list(db.session.execute(statement))
    finally:
        db.session.execute(sa.text("RESET enable_seqscan"))


def _hit(row: sa.Row[Any]) -> MessageHit:
    return MessageHit(
        thread_id=row.thread_id, thread_title=row.title, thread_type=row.thread_type,
        message_id=row.id, role=row.role, created_at=row.created_at,
        snippet=highlight(row.snippet or ""), score=float(row.score),
    )
