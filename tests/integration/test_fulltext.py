"""One word handling for passages and messages, the same on SQLite and PostgreSQL: accents, stop words, stems."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from webapp import fulltext
from webapp.documents.search import PASSAGES as PASSAGE_SOURCE
from webapp.documents.search import highlighted_passage, search_chunks
from webapp.extensions import db
from webapp.models import Document, DocumentChunk, Project, User
from webapp.threads.search import search_messages

from .thread_data import add_message, add_thread

PASSAGES = [
    "Le café crème est prêt; the naïve résumé follows.",
    "Invoices are approved by the finance team before the end of the month.",
    "The rollout is planned.",
]


@pytest.fixture
def owner(app: Flask, user: User) -> Iterator[str]:
    with app.app_context():
        project = Project(user_id=user.id, name="Words")
        db.session.add(project)
        db.session.flush()
        for number, text in enumerate(PASSAGES):
            document = Document(
                user_id=user.id,
                project_id=project.id,
                filename=f"{number}.txt",
                content_type="text/plain",
                size_bytes=len(text),
                sha256=f"{number:064x}",
                original=text.encode(),
                meta={},
            )
            db.session.add(document)
            db.session.flush()
            db.session.add(DocumentChunk(document_id=document.id, ordinal=1, text=text))
        db.session.commit()
        yield user.id


def _found(user_id: str, query: str) -> list[str]:
    return [hit.document.filename for hit in search_chunks(user_id=user_id, query=query)]


@pytest.mark.parametrize("query", ["cafe creme", "CAFÉ", "naive resume", "resumé"])
def test_accents_never_matter(app: Flask, owner: str, query: str) -> None:
    with app.app_context():
        assert _found(owner, query) == ["0.txt"]


def test_stop_words_are_never_searched_for(app: Flask, owner: str) -> None:
    with app.app_context():
        assert _found(owner, "the") == [] and _found(owner, "is of the") == []
        assert _found(owner, "the invoices") == _found(owner, "invoices") == ["1.txt"]


def test_words_match_in_any_form_and_are_marked_in_the_snippet(app: Flask, owner: str) -> None:
    with app.app_context():
        [hit] = search_chunks(user_id=owner, query="approve invoice")
        assert "<mark>Invoices</mark> are <mark>approved</mark>" in hit.snippet
        [accented] = search_chunks(user_id=owner, query="cafe")
        assert "<mark>café</mark>" in accented.snippet


def test_the_opened_passage_marks_every_matching_word(app: Flask, owner: str) -> None:
    with app.app_context():
        [hit] = search_chunks(user_id=owner, query="the end month")
        marked = highlighted_passage(hit.chunk, "the end month")
        assert marked == (
            "Invoices are approved by the finance team before the <mark>end</mark> of the <mark>month</mark>."
        )
        assert highlighted_passage(hit.chunk, "zeppelin") is None


def test_passage_search_leaves_the_planner_settings_as_they_were(app: Flask, owner: str) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL planner setting")
        assert _found(owner, "rollout") == ["2.txt"]  # found with sequential scans turned off
        assert db.session.scalar(sa.text("SHOW enable_seqscan")) == "on"


def test_messages_share_the_same_word_handling(app: Flask, user: User) -> None:
    thread_id = add_thread(app, user.id, title="Words")
    add_message(app, thread_id, "Le café crème est prêt.")
    add_message(app, thread_id, "The rollouts were planned.")
    with app.app_context():
        [accented] = search_messages(user.id, "cafe")
        assert "<mark>café</mark>" in accented.snippet
        assert search_messages(user.id, "the") == []
        [stemmed] = search_messages(user.id, "the rollout")
        assert "<mark>rollouts</mark>" in stemmed.snippet


def _segments() -> int:
    return db.session.scalar(sa.text("SELECT count(DISTINCT segid) FROM document_chunks_fts_idx"))


def _fts(command: str, value: int) -> None:
    db.session.execute(
        sa.text(f"INSERT INTO document_chunks_fts(document_chunks_fts, rank) VALUES ('{command}', {value})")
    )
    db.session.commit()


def _pending_pages() -> int:
    """Sort the passages index's pending list into it (PostgreSQL); say how many pages it held."""
    pages = db.session.scalar(sa.text("SELECT gin_clean_pending_list('ix_document_chunks_fts'::regclass)"))
    db.session.commit()
    return pages


def test_tidying_the_index_folds_what_small_writes_left_and_keeps_every_match(app: Flask, owner: str) -> None:
    with app.app_context():
        document = db.session.scalar(sa.select(Document).where(Document.filename == "1.txt"))
        sqlite = db.engine.dialect.name == "sqlite"
        if sqlite:
            _fts("optimize", 0)  # one segment, whatever the tests before this one wrote
            before = _segments()
            _fts("automerge", 0)  # FTS5's own merging, which would do part of the work at each write, is off
        try:
            for number in range(12):  # twelve transactions: SQLite's index is left a segment by each
                db.session.add(DocumentChunk(document_id=document.id, ordinal=number + 2, text=f"Forecast {number}."))
                db.session.commit()
            if sqlite:
                assert _segments() == before + 12
            fulltext.tidy_index(db.session, PASSAGE_SOURCE)
            if sqlite:
                assert _segments() <= before + 1  # the twelve folded into one, at most
            else:
                assert _pending_pages() == 0  # GIN's pending list was sorted into the index
            db.session.add(DocumentChunk(document_id=document.id, ordinal=14, text="Forecast 12."))
            db.session.commit()
            if not sqlite:
                assert _pending_pages() > 0  # which is where a write leaves its entries
        finally:
            if sqlite:
                _fts("automerge", 4)  # FTS5's default
        hits = search_chunks(user_id=owner, query="forecast", limit=50)
        assert len(hits) == 13 and {hit.document.filename for hit in hits} == {"1.txt"}


def test_a_batch_of_passages_is_indexed_as_it_goes_in_and_single_rows_still_are(app: Flask, owner: str) -> None:
    with app.app_context():
        document = db.session.scalar(sa.select(Document).where(Document.filename == "2.txt"))
        rows = [
            {"document_id": document.id, "ordinal": number, "text": f"Milestone {number} of the cutover."}
            for number in range(2, 82)
        ]
        postgres = db.engine.dialect.name == "postgresql"
        limit = "SHOW gin_pending_list_limit"
        default = db.session.scalar(sa.text(limit)) if postgres else None
        fulltext.insert_passages(db.session, document.id, rows)
        if postgres:  # the batch lets GIN's pending list grow larger, for its own transaction only
            assert db.session.scalar(sa.text(limit)) == "16MB" != default
        db.session.commit()
        if postgres:
            assert db.session.scalar(sa.text(limit)) == default
            db.session.rollback()
        hits = search_chunks(user_id=owner, query="milestone cutover", limit=100)
        assert len(hits) == 80 and {hit.document.filename for hit in hits} == {"2.txt"}
        if db.engine.dialect.name == "sqlite":
            # Indexed once each: the trigger left the batch to the statement, and is on again.
            assert db.session.scalar(sa.text("SELECT count(*) FROM document_chunks_fts_deferred")) == 0
            fts_rows = "SELECT count(*) FROM document_chunks_fts WHERE document_chunks_fts MATCH 'milestone'"
            assert db.session.scalar(sa.text(fts_rows)) == 80
        db.session.add(DocumentChunk(document_id=document.id, ordinal=82, text="A late milestone."))
        db.session.commit()
        assert len(search_chunks(user_id=owner, query="milestone", limit=100)) == 81
        db.session.delete(document)
        db.session.commit()
        assert search_chunks(user_id=owner, query="milestone") == []
