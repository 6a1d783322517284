"""Full-text search: the only code that knows the SQL dialect, used by document and message search alike.

SQLite: FTS5 tables over the real tables ("external content"), tokenized `porter unicode61
remove_diacritics 2`; ranked with bm25(), excerpts by snippet(). PostgreSQL: the `ba_english`
text search configuration (English stemming and stop words, with accents removed by the
unaccent dictionary); ranked with ts_rank(), excerpts by ts_headline(). The migrations make
the indexes; insert_passages writes a batch of passages with their index entries, and
tidy_index does the index upkeep a large write leaves. Both backends handle words the
same way: accents never matter, and the stop words PostgreSQL ignores are taken out of every
query here, so neither backend searches for them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from .extensions import db
from .models import DocumentChunk

CONFIG = "ba_english"
MAX_TERMS = 24
MAX_TERM_LENGTH = 64
# PostgreSQL's English stop words (its english.stop list): never searched for, on either backend.
STOP_WORDS = frozenset(
    """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself it
its itself they them their theirs themselves what which who whom this that these those am is are was were be been
being have has had having do does did doing a an the and but if or because as until while of at by for with about
against between into through during before after above below to from up down in out on off over under again further
then once here there when where why how all any both each few more most other some such no nor not only own same so
than too very s t can will just don should now
""".split()
)
# Private-use characters: the database wraps each match in them, and only they become <mark>.
OPEN, CLOSE = "\ue000", "\ue001"
_MARKERS = re.compile(f"([{OPEN}{CLOSE}])")
_WORD = re.compile(r"\w+")
# A literal, not a bound parameter, so that PostgreSQL matches the expression indexes.
_CONFIG = sa.literal_column(f"'{CONFIG}'")
# Pages (of about 4 KB) of FTS5 segment merging that one tidy_index call does at most.
MERGE_PAGES = 1000
# PostgreSQL: how large (kB) the passages' GIN index lets its pending list grow while an import
# writes, against the server's default of 4 MB (see insert_passages).
IMPORT_PENDING_LIST_KB = 16 * 1024


@dataclass(frozen=True)
class Source:
    """A searchable text column and its index on each backend."""

    fts_table: str  # SQLite: the FTS5 table; its rowid is the indexed row's rowid
    gin_index: str  # PostgreSQL: the GIN index
    rowid: sa.ColumnElement[Any]  # the indexed row's rowid (SQLite) or key
    text: sa.ColumnElement[str]
    vector: sa.ColumnElement[Any]  # PostgreSQL: the tsvector the GIN index holds
    snippet_words: int = 24
    key: sa.ColumnElement[Any] | None = None  # PostgreSQL: the row's key, when rowid is SQLite's own

    @property
    def postgres_key(self) -> sa.ColumnElement[Any]:
        return self.key if self.key is not None else self.rowid


@dataclass(frozen=True)
class Match:
    row: sa.Row[Any]  # the caller's columns
    score: float  # higher is better; comparable within one search only
    snippet: Markup  # escaped text; only <mark> tags


def query_terms(query: str) -> list[str]:
    """Reduce a query to plain words, so quotes, operators and syntax characters are never syntax.

    Stop words go too: PostgreSQL would ignore them, and SQLite must not treat them otherwise.
    """
    terms = [term[:MAX_TERM_LENGTH].lower() for term in _WORD.findall(query)]
    return [term for term in dict.fromkeys(terms) if term not in STOP_WORDS][:MAX_TERMS]


def fts5_query(terms: Sequence[str], *, any_term: bool = False) -> str:
    """FTS5 syntax for plain words: each quoted, so AND, NEAR, *, ^, : and column filters are only words."""
    return (" OR " if any_term else " ").join(f'"{term}"' for term in terms)


def _tsquery(terms: Sequence[str], *, any_term: bool) -> sa.ColumnElement[Any]:
    # Each term quoted: websearch_to_tsquery then reads "or" and a leading "-" as words.
    text = (" or " if any_term else " ").join(f'"{term}"' for term in terms)
    return sa.func.websearch_to_tsquery(_CONFIG, text)


def best_matches(
    statement: sa.Select[Any],
    source: Source,
    terms: Sequence[str],
    *,
    limit: int,
    any_term: bool = False,
    newest_first: sa.ColumnElement[Any] | None = None,
    candidates: int | None = None,
) -> list[Match]:
    """Run `statement` (the caller's columns, joins and scope) on the rows matching `terms`, best first.

    With `newest_first` and `candidates`, PostgreSQL ranks only that many of the newest matches,
    which keeps the cost bounded however common the words are.
    """
    if not terms:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        rows = _postgres(statement, source, terms, limit, any_term, newest_first, candidates)
    else:
        rows = _sqlite(statement, source, terms, limit, any_term)
    return [Match(row, float(row.fts_score), highlight(row.fts_snippet or "")) for row in rows]


def _sqlite(
    statement: sa.Select[Any], source: Source, terms: Sequence[str], limit: int, any_term: bool
) -> Sequence[sa.Row[Any]]:
    fts = sa.table(source.fts_table, sa.column("rowid"))
    name = sa.literal_column(source.fts_table)
    match = fts5_query(terms, any_term=any_term)
    # bm25() is lower for better matches; negated, higher is better on both backends.
    score = (-sa.func.bm25(name)).label("fts_score")
    best = (
        statement.add_columns(source.rowid.label("fts_id"), score)
        .join(fts, fts.c.rowid == source.rowid)
        .where(name.op("MATCH")(match))
        .order_by(sa.desc("fts_score"), source.rowid)
        .limit(limit)
        .subquery()
    )
    # Rank and cut to the best few first; the snippet is made for those few only.
    snippet = sa.func.snippet(name, 0, OPEN, CLOSE, "…", source.snippet_words).label("fts_snippet")
    outer = (
        sa.select(best, snippet)
        .join(fts, fts.c.rowid == best.c.fts_id)
        .where(name.op("MATCH")(match))
        .order_by(best.c.fts_score.desc(), best.c.fts_id)
    )
    return db.session.execute(outer).all()


_HEADLINE_OPTIONS = (
    f'StartSel={OPEN}, StopSel={CLOSE}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'
)


def _postgres(
    statement: sa.Select[Any],
    source: Source,
    terms: Sequence[str],
    limit: int,
    any_term: bool,
    newest_first: sa.ColumnElement[Any] | None,
    candidates: int | None,
) -> Sequence[sa.Row[Any]]:
    tsquery = _tsquery(terms, any_term=any_term)
    key = source.postgres_key
    matching = statement.where(source.vector.op("@@")(tsquery))
    if newest_first is not None and candidates:
        newest = matching.with_only_columns(key).order_by(newest_first.desc()).limit(candidates)
        matching = statement.where(key.in_(newest.scalar_subquery()))
    best = (
        matching.add_columns(key.label("fts_id"), sa.func.ts_rank(source.vector, tsquery).label("fts_score"))
        .order_by(sa.desc("fts_score"), key)
        .limit(limit)
        .subquery()
    )
    # Ranking sorts every match, so it carries keys only; the text is read back, and headlines
    # (costly) are made, for the page of best hits alone.
    headline = sa.func.ts_headline(_CONFIG, source.text, tsquery, _HEADLINE_OPTIONS).label("fts_snippet")
    outer = sa.select(*best.c, headline).where(key == best.c.fts_id).order_by(best.c.fts_score.desc(), best.c.fts_id)
    return _without_sequential_scans(outer)


def _without_sequential_scans(statement: sa.Select[Any]) -> Sequence[sa.Row[Any]]:
    # The planner prices matching a row far below its real cost: a message's vector is computed
    # from its text, a passage's stored vector is read back from TOAST. So for a common word it
    # prefers matching every row over reading the GIN index: 60x slower on 30,000 messages, 2x
    # on 4,000 passages. SET LOCAL lasts until the transaction ends; RESET undoes it at once.
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    try:
        return db.session.execute(statement).all()
    finally:
        db.session.execute(sa.text("RESET enable_seqscan"))


def highlight_all(source: Source, rowid: Any, terms: Sequence[str]) -> Markup | None:
    """The whole text of one row with every word matching any of `terms` marked; None if none does."""
    if not terms:
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        tsquery = _tsquery(terms, any_term=True)
        options = f"StartSel={OPEN}, StopSel={CLOSE}, HighlightAll=true"
        statement = sa.select(sa.func.ts_headline(_CONFIG, source.text, tsquery, options)).where(
            source.postgres_key == rowid, source.vector.op("@@")(tsquery)
        )
    else:
        fts = sa.table(source.fts_table, sa.column("rowid"))
        name = sa.literal_column(source.fts_table)
        statement = (
            sa.select(sa.func.highlight(name, 0, OPEN, CLOSE))
            .select_from(fts)
            .where(fts.c.rowid == rowid, name.op("MATCH")(fts5_query(terms, any_term=True)))
        )
    text = db.session.scalar(statement)
    return highlight(text) if text is not None else None


def highlight(snippet: str) -> Markup:
    """Escape `snippet` and turn the database's match markers into balanced <mark> tags."""
    parts: list[str] = []
    inside = False
    for piece in _MARKERS.split(snippet):
        if piece in (OPEN, CLOSE):
            opening = piece == OPEN
            if opening != inside:
                parts.append("<mark>" if opening else "</mark>")
                inside = opening
        elif piece:
            parts.append(str(escape(piece)))
    if inside:
        parts.append("</mark>")
    return Markup("".join(parts))


def insert_passages(session: Session, document_id: str, rows: list[dict[str, Any]]) -> None:
    """Insert a batch of one document's passages, indexed for search, in the caller's transaction.

    On SQLite a trigger indexes each passage as its row is inserted, which takes FTS5 three times
    as long as indexing the same rows with one statement. The document is listed for the trigger
    to leave alone while its batch goes in, then the batch is indexed at once (migration 0014).

    PostgreSQL's GIN index adds new entries to a pending list, and the write that takes the list
    past `gin_pending_list_limit` sorts the whole list into the index: a quarter of a large
    import's time at the default 4 MB, spent before its document is ready. An import's batches
    let the list grow to IMPORT_PENDING_LIST_KB, and tidy_index sorts it in once the document is
    stored. Searches read the pending list in full, which bounds how large it may grow.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "sqlite":
        session.execute(sa.text(f"SET LOCAL gin_pending_list_limit = {IMPORT_PENDING_LIST_KB}"))
        session.execute(sa.insert(DocumentChunk), rows)
        return
    key = {"document_id": document_id}
    session.execute(sa.text("INSERT INTO document_chunks_fts_deferred (document_id) VALUES (:document_id)"), key)
    session.execute(sa.insert(DocumentChunk), rows)
    ordinals = [row["ordinal"] for row in rows]
    session.execute(
        sa.text(
            "INSERT INTO document_chunks_fts (rowid, text) SELECT id, text FROM document_chunks"
            " WHERE document_id = :document_id AND ordinal BETWEEN :first AND :last"
        ),
        {**key, "first": min(ordinals), "last": max(ordinals)},
    )
    session.execute(sa.text("DELETE FROM document_chunks_fts_deferred WHERE document_id = :document_id"), key)


def tidy_index(session: Session, source: Source) -> None:
    """Fold into the index what recent writes left beside it, so the next writes and searches need not.

    SQLite: each transaction that writes to an FTS5 table leaves a segment, and FTS5 merges them a
    little at each later write; this merges up to MERGE_PAGES pages' worth. PostgreSQL: the GIN
    index's pending list is sorted into the index, as the next write past the list's limit (or
    the next vacuum) would, and every search until then would read the list. That takes the
    index's owner (an error for another role).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT gin_clean_pending_list(CAST(:index AS regclass))"), {"index": source.gin_index})
    else:
        table = source.fts_table  # a name from the code, never from input
        session.execute(sa.text(f"INSERT INTO {table}({table}, rank) VALUES ('merge', :pages)"), {"pages": MERGE_PAGES})
    session.commit()
