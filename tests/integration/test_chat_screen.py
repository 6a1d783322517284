"""The chat screen through HTTP: refusals that keep the text, the composer, copy sources, recent chats, files."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp.auth.service import find_by_email
from webapp.models import User

from ..conftest import PASSWORD, csrf_token_from, other_client
from .thread_data import add_message, add_project, add_thread, add_threads

HX = {"HX-Request": "true", "HX-Target": "messages"}


def user_id_of(app: Flask, email: str) -> str:
    with app.app_context():
        return find_by_email(email).id


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def composer_box(page: str) -> str:
    match = re.search(r'<textarea id="composer-input"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, "no composer on the page"
    return match.group(0)


class TestRefusalsKeepTheText:
    def test_without_javascript_the_page_comes_back_with_the_text_and_the_reason(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        thread_id = add_thread(app, user.id, model_provider="gemini")
        response = client.post(f"/threads/{thread_id}/messages", data={"content": "Keep <this> text"})
        assert response.status_code == 422
        assert 'The provider "gemini" is not configured on this server' in html.unescape(text(response))
        assert "Keep &lt;this&gt; text</textarea>" in composer_box(text(response))

    def test_an_over_long_message_is_refused_in_words_and_kept_whole(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        thread_id = add_thread(app, user.id)
        long_text = "word " * 8_000
        response = client.post(f"/threads/{thread_id}/messages", data={"content": long_text})
        assert response.status_code == 422
        assert "Messages are limited to 32,000 characters; this one has 39,999." in text(response)
        assert long_text in composer_box(text(response))

    def test_the_box_has_no_length_cap_that_would_cut_a_paste(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        thread_id = add_thread(app, user.id)
        box = composer_box(text(client.get(f"/threads/{thread_id}")))
        assert "maxlength" not in box and 'data-limit="32000"' in box


class TestAnEndedSession:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    @pytest.fixture
    def chat(self, app: Flask, client: FlaskClient) -> tuple[str, str]:
        """A signed-up user's chat, and the token its page carries."""
        token = csrf_token_from(text(client.get("/register")))
        client.post(
            "/register",
            data={
                "email": "ana@example.com",
                "display_name": "Ana",
                "password": PASSWORD,
                "confirm": PASSWORD,
                "csrf_token": token,
            },
        )
        token = csrf_token_from(text(client.get("/login")))
        client.post("/login", data={"email": "ana@example.com", "password": PASSWORD, "csrf_token": token})
        thread_id = add_thread(app, user_id_of(app, "ana@example.com"))
        return thread_id, csrf_token_from(text(client.get(f"/threads/{thread_id}")))

    def test_a_lost_session_is_a_401_that_leads_back_to_the_chat(self, app: Flask, chat: tuple[str, str]) -> None:
        thread_id, token = chat
        browser = app.test_client()  # the session cookie is gone
        headers = {**HX, "X-CSRFToken": token, "HX-Current-URL": f"http://localhost/threads/{thread_id}"}
        response = browser.post(f"/threads/{thread_id}/messages", data={"content": "Still here?"}, headers=headers)
        assert response.status_code == 401
        assert "Your session ended" in text(response)
        assert f'href="/login?next=/threads/{thread_id}"' in text(response)

        plain = browser.post(
            f"/threads/{thread_id}/messages",
            data={"content": "Still here?", "csrf_token": token},
            headers={"Referer": f"http://localhost/threads/{thread_id}"},
        )
        assert plain.status_code == 401 and "<html" in text(plain) and "Log in again" in text(plain)
        assert f'href="/login?next=/threads/{thread_id}"' in text(plain)

    def test_a_form_from_another_site_leads_home_after_logging_in(self, app: Flask, chat: tuple[str, str]) -> None:
        thread_id, token = chat
        response = app.test_client().post(
            f"/threads/{thread_id}/messages",
            data={"content": "x", "csrf_token": token},
            headers={"Referer": "https://elsewhere.example/threads/x"},
        )
        assert response.status_code == 401 and 'href="/login?next=/"' in text(response)

    def test_after_logging_out_elsewhere_a_chat_action_is_a_401(
        self, client: FlaskClient, chat: tuple[str, str]
    ) -> None:
        thread_id, token = chat
        client.post("/logout", headers={"X-CSRFToken": token})
        response = client.post(
            f"/threads/{thread_id}/messages", data={"content": "x"}, headers={**HX, "X-CSRFToken": token}
        )
        assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login?next=")


class TestComposerAndCopy:
    def test_the_composer_knows_where_to_log_in_again_and_lists_shortcuts(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        thread_id = add_thread(app, user.id)
        page = text(client.get(f"/threads/{thread_id}"))
        assert f'data-login-url="/login?next=/threads/{thread_id}"' in page
        assert 'aria-label="Keyboard shortcuts"' in page and '<dialog id="shortcuts"' in page
        assert "Ctrl</kbd> + <kbd>Shift</kbd> + <kbd>O</kbd>" in page
        assert '<dialog id="shortcuts"' not in text(app.test_client().get("/login"))

    def test_a_reply_carries_its_markdown_to_copy(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user.id)
        reply = (
            "Compare:\n\n| a | b |\n| --- | --- |\n| 1 | <2> |\n\n```sql\nselect 1;\n```\n\n"
            "```choices\n- Go on\n- Stop here\n```\n"
        )
        add_message(app, thread_id, reply, role="assistant", status="complete")
        page = text(client.get(f"/threads/{thread_id}"))
        source = re.search(r"<template data-copy-source>(.*?)</template>", page, re.S)
        assert source and html.unescape(source.group(1)) == (
            "Compare:\n\n| a | b |\n| --- | --- |\n| 1 | <2> |\n\n```sql\nselect 1;\n```\n\n- Go on\n- Stop here"
        )
        assert (
            '<span class="code-lang">sql</span><button type="button" class="code-copy" aria-label="Copy sql code">'
            in page
        )


class TestRecentChats:
    def test_the_sidebar_lists_the_latest_ten_and_marks_the_open_one(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        ids = add_threads(app, user.id, 12)
        other_client(app)
        add_threads(app, user_id_of(app, "ben@example.com"), 1, title="Ben's secret")
        page = text(client.get(f"/threads/{ids[5]}"))
        sidebar = page.split('aria-labelledby="sidebar-chats-title"')[1].split("</nav>")[0]
        assert re.findall(r"<span[^>]*>(Chat \d+)</span>", sidebar) == [f"Chat {n}" for n in range(11, 1, -1)]
        assert re.search(
            rf'href="/threads/{ids[5]}" class="sidebar-chat active" aria-current="page">'
            r'<span class="thread-title-text">Chat 5</span>',
            sidebar,
        )
        assert "Ben's secret" not in page
        assert "Recent chats" not in text(app.test_client().get("/login"))


class TestFilesIntoTheChat:
    def test_a_project_chat_takes_files_into_the_project_and_comes_back(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        project_id = add_project(app, user.id, "Acme onboarding")
        thread_id = add_thread(app, user.id, project_id=project_id)
        page = text(client.get(f"/threads/{thread_id}"))
        assert "Project documents" in page and 'id="documents-count"' in page and "(0)" in page
        assert re.search(rf'<form id="chat-upload"[^>]*action="/projects/{project_id}/documents"', page)
        assert f'name="next" value="/threads/{thread_id}"' in page

        response = client.post(
            f"/projects/{project_id}/documents",
            data={"files": [(io.BytesIO(b"Scope notes"), "scope.txt")], "next": f"/threads/{thread_id}"},
        )
        assert response.status_code == 303 and response.headers["Location"] == f"/threads/{thread_id}"
        count = client.get(f"/threads/{thread_id}/documents-count", headers={"HX-Request": "true"})
        assert ">(1)</span>" in text(count) and 'hx-trigger="documents-changed from:body"' in text(count)
        assert "scope.txt" in text(client.get(f"/threads/{thread_id}"))

    def test_an_assistant_chat_posts_files_to_its_own_documents(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        thread_id = add_thread(app, user.id, thread_type="assistant")
        page = text(client.get(f"/threads/{thread_id}"))
        assert re.search(rf'<form id="chat-upload"[^>]*action="/threads/{thread_id}/documents"', page)
        assert "data-upload data-autosubmit data-drop-target" in page and "documents.js" in page

    def test_a_chat_in_no_project_has_nowhere_to_put_files(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user.id)
        page = text(client.get(f"/threads/{thread_id}"))
        assert 'id="chat-upload"' not in page and "Attach" not in page
        assert 'data-drop-refusal="This chat is in no project: move it into a project to add files to it."' in page
        assert client.get(f"/threads/{thread_id}/documents-count").status_code == 200

    def test_another_users_chat_has_no_count(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user.id, thread_type="assistant")
        assert other_client(app).get(f"/threads/{thread_id}/documents-count").status_code == 404
