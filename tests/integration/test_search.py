"""Full-text search over passages: ranking, highlighting, scoping, odd queries, and the index's transactions."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, current_app
from flask.testing import FlaskClient

from webapp.documents import service
from webapp.documents.search import search_chunks
from webapp.extensions import db
from webapp.fulltext import query_terms
from webapp.models import Document, DocumentChunk, Project, Thread, User

from ..conftest import other_client
from ..imports import wait_for_imports
from .test_projects import add_thread, create_project, upload


@pytest.fixture
def context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.rollback()


def _store(
    user_id: str, text: str, name: str, *, project_id: str | None = None, thread_id: str | None = None
) -> Document:
    [outcome] = service.upload_documents(
        user_id=user_id,
        files=[service.IncomingFile(name, io.BytesIO(text.encode()))],
        project_id=project_id,
        thread_id=thread_id,
    )
    assert outcome.status == "received", outcome.message
    wait_for_imports(current_app._get_current_object())
    document = db.session.get(Document, outcome.document.id)
    assert document is not None and document.status == "stored"
    return document


def _project(user_id: str, name: str) -> str:
    project = Project(user_id=user_id, name=name)
    db.session.add(project)
    db.session.commit()
    return project.id


@pytest.fixture
def library(app: Flask, client: FlaskClient, user: User, context: None) -> dict[str, str]:
    """Ana's two projects and an assistant thread, each with a document or two."""
    crm = _project(user.id, "CRM")
    billing = _project(user.id, "Billing")
    thread = Thread(user_id=user.id, title="Scratch", model_provider="offline", thread_type="assistant")
    db.session.add(thread)
    db.session.commit()
    _store(
        user.id,
        "Invoices are approved by finance. Invoices over 10k need the CFO. Invoices, invoices.",
        "approvals.txt",
        project_id=billing,
    )
    _store(user.id, "The customer record holds one invoice address.", "crm.txt", project_id=crm)
    _store(user.id, "Scratch notes: invoice numbering restarts each year.", "scratch.txt", thread_id=thread.id)
    return {"crm": crm, "billing": billing, "thread": thread.id, "user": user.id}


def _names(hits) -> list[str]:  # noqa: ANN001
    return [hit.document.filename for hit in hits]


def test_stemmed_matches_best_first(library: dict[str, str]) -> None:
    hits = search_chunks(user_id=library["user"], query="invoice")
    assert _names(hits)[0] == "approvals.txt"
    assert sorted(_names(hits)) == ["approvals.txt", "crm.txt", "scratch.txt"]
    assert hits[0].score > hits[-1].score


def test_snippets_mark_the_matches(library: dict[str, str]) -> None:
    [hit] = search_chunks(user_id=library["user"], query="address")
    assert "<mark>address</mark>" in hit.snippet
    assert hit.chunk.ordinal == 1 and hit.chunk.document_id == hit.document.id


def test_snippets_escape_everything_but_the_marks(app: Flask, library: dict[str, str]) -> None:
    _store(
        library["user"],
        'Beware <script>alert("x")</script> & <b>bold</b> claims.',
        "xss.txt",
        project_id=library["crm"],
    )
    [hit] = search_chunks(user_id=library["user"], query="beware claims")
    assert "<script>" not in hit.snippet and "<b>" not in hit.snippet
    assert "&amp;" in hit.snippet and "<mark>Beware</mark>" in hit.snippet
    if db.engine.dialect.name == "sqlite":  # ts_headline drops what looks like a tag altogether
        assert "&lt;script&gt;" in hit.snippet


def test_scope_to_a_project_or_a_thread(library: dict[str, str]) -> None:
    user = library["user"]
    assert _names(search_chunks(user_id=user, query="invoice", project_id=library["crm"])) == ["crm.txt"]
    assert _names(search_chunks(user_id=user, query="invoice", thread_id=library["thread"])) == ["scratch.txt"]
    both = search_chunks(user_id=user, query="invoice", project_id=library["crm"], thread_id=library["thread"])
    assert sorted(_names(both)) == ["crm.txt", "scratch.txt"]


def test_another_user_never_sees_the_documents(app: Flask, library: dict[str, str]) -> None:
    ben = User(email="ben@example.com", display_name="Ben", password_hash="x")
    db.session.add(ben)
    db.session.commit()
    assert search_chunks(user_id=ben.id, query="invoice") == []
    assert search_chunks(user_id=ben.id, query="invoice", project_id=library["billing"]) == []


def test_every_word_first_then_any_word(library: dict[str, str]) -> None:
    assert _names(search_chunks(user_id=library["user"], query="invoice address")) == ["crm.txt"]
    # No passage holds both words: fall back to passages holding either.
    fallback = search_chunks(user_id=library["user"], query="address numbering")
    assert sorted(_names(fallback)) == ["crm.txt", "scratch.txt"]


@pytest.mark.parametrize(
    "query",
    [
        '"invoice',
        'invoice"',
        "invoice*",
        "^invoice",
        "invoice NEAR approved",
        "NEAR(invoice approved)",
        "invoice AND",
        "OR invoice",
        "NOT invoice",
        "-invoice",
        "invoice:",
        "col:invoice",
        "(invoice",
        "invoice)",
        "invoice & | !",
        "'invoice'",
        "invoice's",
        "{invoice}",
        "invoice <-> approved",
        "invoice\\",
        "%invoice%",
        "invoice;drop table documents",
    ],
)
def test_syntax_characters_are_words_and_never_errors(library: dict[str, str], query: str) -> None:
    hits = search_chunks(user_id=library["user"], query=query)
    assert "approvals.txt" in _names(hits) or "crm.txt" in _names(hits)


@pytest.mark.parametrize("query", ["", "   ", '"', "*", "()", "-", "^:", "…"])
def test_queries_without_words_find_nothing(library: dict[str, str], query: str) -> None:
    assert search_chunks(user_id=library["user"], query=query) == []


def test_query_terms_are_plain_unique_words() -> None:
    assert query_terms('"Budget" AND budget* -approval NEAR(x)') == ["budget", "approval", "near", "x"]


def test_limit_caps_the_hits(library: dict[str, str]) -> None:
    for number in range(5):
        _store(library["user"], f"Invoice variant {number}.", f"v{number}.txt", project_id=library["crm"])
    assert len(search_chunks(user_id=library["user"], query="invoice", limit=3)) == 3


def test_index_follows_inside_the_transaction(library: dict[str, str]) -> None:
    document = Document(
        user_id=library["user"],
        project_id=library["crm"],
        filename="draft.txt",
        content_type="text/plain",
        size_bytes=5,
        sha256="0" * 64,
        original=b"draft",
        meta={},
    )
    db.session.add(document)
    db.session.flush()
    db.session.add(DocumentChunk(document_id=document.id, ordinal=1, text="A zeppelin appears."))
    db.session.flush()
    assert _names(search_chunks(user_id=library["user"], query="zeppelin")) == ["draft.txt"]
    db.session.rollback()
    assert search_chunks(user_id=library["user"], query="zeppelin") == []


def test_deleting_a_document_or_its_project_empties_the_index(library: dict[str, str]) -> None:
    [hit] = search_chunks(user_id=library["user"], query="address")
    service.delete_document(hit.document)
    assert search_chunks(user_id=library["user"], query="address") == []
    db.session.delete(db.session.get(Project, library["billing"]))
    db.session.commit()
    assert search_chunks(user_id=library["user"], query="finance") == []
    if db.engine.dialect.name == "sqlite":
        indexed = db.session.scalar(
            sa.text("SELECT count(*) FROM document_chunks_fts WHERE document_chunks_fts MATCH 'invoice'")
        )
        assert indexed == 1  # only the thread's note is left


def test_spreadsheet_rows_are_found_with_their_sheet_and_labels(library: dict[str, str]) -> None:
    from .. import samples

    service.upload_documents(
        user_id=library["user"],
        project_id=library["crm"],
        files=[service.IncomingFile("budget.xlsx", io.BytesIO(samples.xlsx({"Budget": samples.BUDGET_ROWS})))],
    )
    wait_for_imports(current_app._get_current_object())
    [hit] = search_chunks(user_id=library["user"], query="desk")
    assert hit.chunk.sheet == "Budget"
    assert "Budget, row 4" in hit.snippet and "<mark>Desk</mark>" in hit.snippet


class TestSearchPage:
    def test_results_link_to_the_highlighted_passage(self, app: Flask, client: FlaskClient, user: User) -> None:
        project_id = create_project(client)
        text = "Intro.\n\n" + "Filler sentence here. " * 80 + "\n\nThe escalation path ends with the sponsor."
        upload(client, project_id, (text.encode(), "process.txt"))
        page = client.get("/search?q=escalation+sponsor").get_data(as_text=True)
        with app.app_context():
            document_id = db.session.scalar(sa.select(Document.id))
        link = f"/documents/{document_id}?q=escalation+sponsor&amp;hit=2#chunk-2"
        assert f'href="{link}"' in page
        assert "<mark>escalation</mark>" in page and "Acme CRM" in page
        document = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
        assert '<section id="chunk-2" class="passage"' in document
        # The opened passage marks the words searched for, and only that passage.
        assert "The <mark>escalation</mark> path ends with the <mark>sponsor</mark>." in document
        assert document.count("<mark>") == 2

    def test_active_search_returns_only_the_results(self, client: FlaskClient, user: User) -> None:
        project_id = create_project(client)
        upload(client, project_id, (b"Stakeholder interviews are planned for May.", "plan.txt"))
        response = client.get(
            f"/search?q=interviews&project={project_id}", headers={"HX-Request": "true", "HX-Target": "search-results"}
        )
        html = response.get_data(as_text=True)
        assert "<html" not in html and "<mark>interviews</mark>" in html
        assert response.headers["Vary"] == "HX-Target" or "HX-Target" in response.headers["Vary"]

    def test_page_form_explains_empty_and_missing_results(self, client: FlaskClient, user: User) -> None:
        page = client.get("/search").get_data(as_text=True)
        assert 'hx-trigger="input changed delay:250ms, search"' in page and 'action="/search"' in page
        assert "Type a few words." in page
        assert "Nothing found for “zebra”" in client.get("/search?q=zebra").get_data(as_text=True)

    def test_project_search_is_scoped_and_named(self, app: Flask, client: FlaskClient, user: User) -> None:
        first, second = create_project(client, "First"), create_project(client, "Second")
        upload(client, first, (b"Shared word: roadmap, first.", "one.txt"))
        upload(client, second, (b"Shared word: roadmap, second.", "two.txt"))
        page = client.get(f"/search?q=roadmap&project={first}").get_data(as_text=True)
        assert "Search “First”" in page and ">one.txt</a>" in page and ">two.txt</a>" not in page
        everywhere = client.get("/search?q=roadmap").get_data(as_text=True)
        assert ">one.txt</a>" in everywhere and ">two.txt</a>" in everywhere

    def test_other_users_find_nothing_of_ours(self, app: Flask, client: FlaskClient, user: User) -> None:
        project_id = create_project(client)
        upload(client, project_id, (b"Confidential pricing strategy.", "pricing.txt"))
        ben = other_client(app)
        assert "Nothing found" in ben.get("/search?q=pricing").get_data(as_text=True)

    def test_thread_documents_are_searchable_everywhere(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user, None, "Mine", thread_type="assistant")
        client.post(
            f"/threads/{thread_id}/documents", data={"files": [(io.BytesIO(b"Quarterly churn figures."), "churn.txt")]}
        )
        wait_for_imports(app)
        assert ">churn.txt</a>" in client.get("/search?q=churn").get_data(as_text=True)
