"""Search the user's chats: titles by LIKE, message text through the full-text module.

PostgreSQL ranks only the newest PG_RANKED_CANDIDATES matching messages, where SQLite ranks them all.
Only the messages their chats show are found: another version of a reply or a question (see
chat/branches.py) is not, since opening it would show something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from markupsafe import Markup

from .. import fulltext
from ..chat.branches import selected_ids
from ..extensions import db
from ..models import Message, Thread
from .service import like_pattern

TITLE_LIMIT = 20
MESSAGE_LIMIT = 50
# Matches asked of the index for each hit shown: some are versions their chats do not show.
OVERFETCH = 3
# PostgreSQL ranks only this many of the newest matching messages.
PG_RANKED_CANDIDATES = 500
QUERY_MAX = 200
# A reply is indexed once it has finished streaming (see the migrations): the literal lets
# PostgreSQL match its partial index.
_STREAMING = sa.literal_column("'streaming'")
MESSAGES = fulltext.Source(
    fts_table="messages_fts",
    gin_index="ix_messages_fts",
    rowid=sa.literal_column("messages.rowid"),
    key=Message.id,
    text=Message.content,
    vector=sa.func.to_tsvector(sa.literal_column(f"'{fulltext.CONFIG}'"), Message.content),
    snippet_words=16,
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
    statement = (
        sa.select(Message.thread_id, Thread.title, Thread.thread_type, Message.id, Message.role, Message.created_at)
        .select_from(Message)
        .join(Thread, Thread.id == Message.thread_id)
        .where(Thread.user_id == user_id, Message.deleted_at.is_(None), Message.status != _STREAMING)
    )
    matches = fulltext.best_matches(
        statement,
        MESSAGES,
        fulltext.query_terms(query),
        limit=limit * OVERFETCH,
        newest_first=Message.created_at,
        candidates=PG_RANKED_CANDIDATES,
    )
    shown = selected_ids({match.row.thread_id for match in matches})
    return [_hit(match) for match in matches if match.row.id in shown][:limit]


def _hit(match: fulltext.Match) -> MessageHit:
    row = match.row
    return MessageHit(
        thread_id=row.thread_id,
        thread_title=row.title,
        thread_type=row.thread_type,
        message_id=row.id,
        role=row.role,
        created_at=row.created_at,
        snippet=match.snippet,
        score=match.score,
    )
