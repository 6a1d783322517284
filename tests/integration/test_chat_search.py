"""Searching chats through HTTP: titles, message text with highlights, scoping, and odd queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from webapp.extensions import db
from webapp.models import User

from ..conftest import other_client
from .thread_data import START, add_message, add_thread


def _search(client: FlaskClient, query: str, **headers: str) -> str:
    response = client.get("/chats/search", query_string={"q": query}, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _snippets(page: str) -> list[str]:
    return re.findall(r'<p class="snippet">(.*?)</p>', page, re.S)


def test_empty_search_explains_what_it_searches(client: FlaskClient, user: User) -> None:
    page = _search(client, "")
    assert "Search every chat you have" in page and "Nothing found" not in page


def test_message_text_hits_are_highlighted_and_link_to_the_message(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = add_thread(app, user.id, title="Discovery")
    message_id = add_message(app, thread_id, "The stakeholder workshop moved to Tuesday afternoon.")
    add_message(app, thread_id, "Budget approval is still pending.", role="assistant")
    page = _search(client, "workshop")
    assert f'href="/threads/{thread_id}#message-{message_id}"' in page
    (snippet,) = _snippets(page)
    assert "stakeholder <mark>workshop</mark> moved to Tuesday afternoon" in snippet
    assert "Discovery" in page and "Budget approval" not in page


def test_words_match_in_any_form(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = add_thread(app, user.id, title="Planning")
    add_message(app, thread_id, "We interviewed three stakeholders about invoicing.")
    assert "<mark>stakeholders</mark>" in _search(client, "stakeholder")
    assert "<mark>interviewed</mark>" in _search(client, "interviews")


def test_all_words_are_required_and_the_best_match_comes_first(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = add_thread(app, user.id)
    add_message(app, thread_id, "One invoice among many other words " * 3, created_at=START)
    add_message(app, thread_id, "invoice approval invoice approval invoice", created_at=START + timedelta(1))
    add_message(app, thread_id, "approval only", created_at=START + timedelta(2))
    snippets = _snippets(_search(client, "invoice approval"))
    assert len(snippets) == 1 and snippets[0].count("<mark>") == 5
    ranked = _snippets(_search(client, "invoice"))
    assert len(ranked) == 2 and ranked[0].count("<mark>") == 3 and ranked[1].count("<mark>") >= 1


def test_message_html_is_escaped_and_only_mark_is_markup(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = add_thread(app, user.id)
    add_message(app, thread_id, '<script>alert("x")</script> <b>risk</b> register & mitigation')
    page = _search(client, "risk")
    assert "<script>alert" not in page and "<b>" not in page
    (snippet,) = _snippets(page)
    # SQLite keeps the tags as escaped text; PostgreSQL's parser drops them from headlines.
    assert "&amp;" in snippet and ("&lt;script&gt;" in snippet or "script" not in snippet)
    assert re.sub(r"&[a-z#0-9]+;", "", snippet.replace("<mark>", "").replace("</mark>", "")).count("<") == 0


def test_deleted_messages_are_not_found(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = add_thread(app, user.id)
    add_message(app, thread_id, "confidential salary figures", deleted_at=START)
    assert "Nothing found" in _search(client, "salary")


def test_titles_match_case_insensitively(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = add_thread(app, user.id, title="Quarterly Planning", thread_type="assistant")
    page = _search(client, "planning")
    assert "in the title" in page and f'href="/threads/{thread_id}"' in page and "Quarterly Planning" in page


def test_results_are_a_fragment_for_search_as_you_type(app: Flask, client: FlaskClient, user: User) -> None:
    add_message(app, add_thread(app, user.id), "acceptance criteria for login")
    page = _search(client, "criteria", **{"HX-Request": "true", "HX-Target": "search-results"})
    assert "<html" not in page and 'id="search-results"' in page and "<mark>criteria</mark>" in page


def test_only_the_users_own_chats_are_searched(app: Flask, client: FlaskClient, user: User) -> None:
    other_client(app)
    with app.app_context():
        ben_id = db.session.scalar(sa.select(User.id).where(User.email == "ben@example.com"))
    add_message(app, add_thread(app, ben_id, title="Ben merger plans"), "secret merger timeline")
    page = _search(client, "merger")
    assert "Nothing found" in page and "secret" not in page and "Ben merger" not in page


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "'",
        '"unterminated',
        "AND",
        "OR NOT",
        "NEAR(a b)",
        "content:risk",
        "risk*",
        "^risk",
        "-risk",
        "(",
        "a AND (b OR",
        "risk +",
        "{}[]",
        "\\",
        "%_",
        "🙂",
        "x" * 500,
        "NOT risk",
        "!!",
        "&|<->",
        ":*",
    ],
)
def test_fts_syntax_in_queries_never_errors(app: Flask, client: FlaskClient, user: User, query: str) -> None:
    add_message(app, add_thread(app, user.id, title="Risk log"), "the risk register needs an owner")
    page = _search(client, query)
    assert "Search chats" in page and str(escape(query[:50])) in page


def test_search_leaves_the_planner_settings_as_they_were(app: Flask, user: User) -> None:
    from webapp.threads.search import search_messages

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL planner setting")
        search_messages(user.id, "anything")
        assert db.session.scalar(sa.text("SHOW enable_seqscan")) == "on"
