"""Chat lists through HTTP: starting chats, the Chats, Assistant, Home and project lists, and row actions."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Message, Project, Thread, User

from ..conftest import AuthActions, csrf_token_from, other_client
from .thread_data import (
    START,
    add_message,
    add_project,
    add_thread,
    add_threads,
    counting_queries,
    get_thread,
    threads_of,
)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _titles(page: str) -> list[str]:
    return [html.unescape(title) for title in re.findall(r'class="thread-title"[^>]*>([^<]*)</a>', page)]


def _load_more_url(page: str) -> str | None:
    match = re.search(r'id="chat-more".*?href="([^"]+)"', page, re.S)
    return html.unescape(match.group(1)) if match else None


def _hx(target: str) -> dict[str, str]:
    return {"HX-Request": "true", "HX-Target": target}


def _set_default_provider(app: Flask, user: User, provider: str) -> None:
    with app.app_context():
        db.session.get(User, user.id).default_provider = provider
        db.session.commit()


class TestStartingChats:
    def test_home_new_chat_is_one_click_and_project_less(self, app: Flask, client: FlaskClient, user: User) -> None:
        home = _text(client.get("/"))
        assert 'action="/chats"' in home and "New chat" in home
        response = client.post("/chats", data={})
        assert response.status_code == 303
        thread_id = response.headers["Location"].removeprefix("/threads/")
        thread = get_thread(app, thread_id)
        assert (thread.thread_type, thread.project_id, thread.model_provider) == ("ba_assistant", None, "offline")
        assert thread.conversation_mode is None and thread.title is None
        assert "Untitled chat" in _text(client.get(response.headers["Location"]))

    def test_chats_page_form_sets_title_provider_model_and_mode(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        page = _text(client.get("/chats"))
        assert "Start a chat with a title, provider, model or mode" in page
        response = client.post(
            "/chats", data={"title": "Kick-off prep", "provider": "offline", "model": "local-1", "mode": "meeting"}
        )
        thread = get_thread(app, response.headers["Location"].removeprefix("/threads/"))
        assert (thread.title, thread.model_name, thread.conversation_mode) == ("Kick-off prep", "local-1", "meeting")
        assert thread.title_locked
        assert "Kick-off prep" in _text(client.get("/chats"))

    def test_project_page_form_starts_a_chat_in_the_project(self, app: Flask, client: FlaskClient, user: User) -> None:
        project_id = add_project(app, user.id, "Billing revamp")
        partial = _text(client.get(f"/projects/{project_id}/chats"))
        assert f'name="project_id" value="{project_id}"' in partial
        assert "No chats in this project yet" in partial
        response = client.post("/chats", data={"project_id": project_id, "mode": "refinement"})
        assert response.status_code == 303
        thread = get_thread(app, response.headers["Location"].removeprefix("/threads/"))
        assert thread.project_id == project_id and thread.conversation_mode == "refinement"
        page = _text(client.get(f"/projects/{project_id}/chats"))
        assert "Untitled chat" in page and "No chats in this project yet" not in page

    def test_options_page_preselects_the_project(self, app: Flask, client: FlaskClient, user: User) -> None:
        project_id = add_project(app, user.id, "Billing revamp")
        page = _text(client.get(f"/chats/new?project_id={project_id}"))
        assert re.search(rf'<option selected value="{project_id}">Billing revamp</option>', page)

    def test_htmx_create_redirects_the_whole_page(self, app: Flask, client: FlaskClient, user: User) -> None:
        response = client.post("/chats", data={"title": "Via htmx"}, headers=_hx("new-chat"))
        assert response.status_code == 204
        assert response.headers["HX-Redirect"].startswith("/threads/")

    def test_assistant_chat_is_one_click_without_project_or_mode(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        assert "No assistant chats yet" in _text(client.get("/assistant"))
        response = client.post("/assistant")
        assert response.status_code == 303
        thread = get_thread(app, response.headers["Location"].removeprefix("/threads/"))
        assert (thread.thread_type, thread.project_id, thread.conversation_mode) == ("assistant", None, None)
        assert "Untitled chat" in _text(client.get("/assistant"))
        assert "No chats yet" in _text(client.get("/chats"))

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"title": "x" * 201}, "Field cannot be longer than 200 characters."),
            ({"provider": "nonexistent"}, "Choose one of the configured providers."),
            ({"mode": "brainstorm"}, "Choose meeting, refinement, or no mode yet."),
            ({"model": "m" * 101}, "Field cannot be longer than 100 characters."),
        ],
    )
    def test_invalid_choices_are_form_errors(
        self, app: Flask, client: FlaskClient, user: User, data: dict[str, str], message: str
    ) -> None:
        response = client.post("/chats", data=data)
        assert response.status_code == 422
        assert message in _text(response) and "<html" in _text(response)
        fragment = client.post("/chats", data=data, headers=_hx("new-chat"))
        assert fragment.status_code == 422 and message in _text(fragment) and "<html" not in _text(fragment)
        assert threads_of(app, user.id) == []

    @pytest.mark.parametrize("app_config", [{"ANTHROPIC_API_KEY": "configured"}])
    def test_users_default_provider_is_preselected_and_used(self, app: Flask, client: FlaskClient, user: User) -> None:
        _set_default_provider(app, user, "anthropic")
        assert '<option selected value="anthropic">Anthropic</option>' in _text(client.get("/chats/new"))
        response = client.post("/chats", data={})
        assert get_thread(app, response.headers["Location"].removeprefix("/threads/")).model_provider == "anthropic"
        assert "Anthropic" in _text(client.get("/chats"))

    @pytest.mark.parametrize("app_config", [{"GEMINI_API_KEY": "configured", "OPENAI_API_KEY": "configured"}])
    def test_without_a_server_default_new_chats_use_the_first_configured_provider(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        assert app.config["DEFAULT_PROVIDER"] is None
        assert '<option selected value="openai">OpenAI</option>' in _text(client.get("/chats/new"))
        response = client.post("/chats", data={})
        assert get_thread(app, response.headers["Location"].removeprefix("/threads/")).model_provider == "openai"

    @pytest.mark.parametrize("app_config", [{"GEMINI_API_KEY": "configured", "DEFAULT_PROVIDER": "gemini"}])
    def test_unconfigured_default_falls_back_to_the_servers(self, app: Flask, client: FlaskClient, user: User) -> None:
        _set_default_provider(app, user, "anthropic")
        response = client.post("/assistant")
        assert get_thread(app, response.headers["Location"].removeprefix("/threads/")).model_provider == "gemini"


class TestChatsPage:
    def test_empty_state_says_what_to_do(self, client: FlaskClient, user: User) -> None:
        page = _text(client.get("/chats"))
        assert "No chats yet" in page and "Start your first chat" in page

    def test_rows_show_title_project_provider_activity_and_count(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        project_id = add_project(app, user.id, "Acme rollout")
        in_project = add_thread(app, user.id, title="Scope review", project_id=project_id)
        add_thread(app, user.id)
        for text in ("one", "two", "three"):
            add_message(app, in_project, text)
        add_message(app, in_project, "gone", deleted_at=START)
        page = _text(client.get("/chats"))
        assert "Scope review" in page and "Untitled chat" in page
        assert "Acme rollout" in page and "No project" in page
        assert "Offline" in page and "3 messages" in page and "0 messages" in page
        assert "Active <time datetime=" in page

    def test_sorted_by_last_activity_newest_first(self, app: Flask, client: FlaskClient, user: User) -> None:
        add_thread(app, user.id, title="Oldest", last_activity_at=START)
        add_thread(app, user.id, title="Newest", last_activity_at=START + timedelta(days=2))
        add_thread(app, user.id, title="Middle", last_activity_at=START + timedelta(days=1))
        assert _titles(_text(client.get("/chats"))) == ["Newest", "Middle", "Oldest"]

    def test_pages_of_25_with_load_more(self, app: Flask, client: FlaskClient, user: User) -> None:
        add_threads(app, user.id, 30)
        first = _text(client.get("/chats"))
        assert _titles(first) == [f"Chat {n}" for n in range(29, 4, -1)]
        more_url = _load_more_url(first)
        assert more_url and "Load more" in first

        more = client.get(more_url, headers=_hx("chat-more"))
        assert "<html" not in _text(more) and "Vary" in more.headers
        assert _titles(_text(more)) == [f"Chat {n}" for n in range(4, -1, -1)]
        assert _load_more_url(_text(more)) is None

        # Without JavaScript the same link is a full page with the next chats.
        plain = _text(client.get(more_url))
        assert "<html" in plain and _titles(plain) == [f"Chat {n}" for n in range(4, -1, -1)]
        assert "Back to the most recent" in plain

    def test_load_more_keeps_the_filters(self, app: Flask, client: FlaskClient, user: User) -> None:
        add_threads(app, user.id, 27, model_provider="gemini")
        add_threads(app, user.id, 5)
        first = _text(client.get("/chats?provider=gemini"))
        more_url = _load_more_url(first)
        assert "provider=gemini" in more_url
        assert len(_titles(_text(client.get(more_url, headers=_hx("chat-more"))))) == 2

    def test_a_chat_active_between_pages_is_not_shown_twice(self, app: Flask, client: FlaskClient, user: User) -> None:
        ids = add_threads(app, user.id, 26)
        more_url = _load_more_url(_text(client.get("/chats")))
        with app.app_context():
            db.session.get(Thread, ids[3]).last_activity_at = START + timedelta(days=30)
            db.session.commit()
        assert _titles(_text(client.get(more_url, headers=_hx("chat-more")))) == ["Chat 0"]

    def test_bad_cursor_is_a_bad_request(self, client: FlaskClient, user: User) -> None:
        response = client.get("/chats?after=yesterday")
        assert response.status_code == 400 and "Something in that request was not right" in _text(response)

    def test_filter_by_project_and_no_project(self, app: Flask, client: FlaskClient, user: User) -> None:
        acme = add_project(app, user.id, "Acme")
        globex = add_project(app, user.id, "Globex")
        add_thread(app, user.id, title="Acme chat", project_id=acme)
        add_thread(app, user.id, title="Globex chat", project_id=globex)
        add_thread(app, user.id, title="Loose chat")
        assert _titles(_text(client.get(f"/chats?project={acme}"))) == ["Acme chat"]
        assert _titles(_text(client.get("/chats?project=none"))) == ["Loose chat"]
        page = _text(client.get(f"/chats?project={globex}"))
        assert re.search(rf'<option value="{globex}" selected>Globex</option>', page)

    def test_filter_by_provider(self, app: Flask, client: FlaskClient, user: User) -> None:
        add_thread(app, user.id, title="Local", model_provider="offline")
        add_thread(app, user.id, title="Cloud", model_provider="anthropic")
        page = _text(client.get("/chats?provider=anthropic"))
        assert _titles(page) == ["Cloud"]
        assert '<option value="anthropic" selected>Anthropic</option>' in page

    def test_provider_filter_offers_the_providers_of_the_users_own_chats(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        add_thread(app, user.id, title="Cloud", model_provider="anthropic")
        add_thread(app, user.id, title="Local", model_provider="offline")
        add_thread(app, user.id, title="General", model_provider="gemini", thread_type="assistant")
        other_client(app)
        with app.app_context():
            ben = db.session.scalar(sa.select(User.id).where(User.email == "ben@example.com"))
        add_thread(app, ben, title="Ben's", model_provider="openai")
        select = _text(client.get("/chats")).split('aria-label="Filter by provider"')[1].split("</select>")[0]
        assert re.findall(r'<option value="(\w+)"', select) == ["anthropic", "offline"]

    def test_title_search_as_you_type_returns_the_list_fragment(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        add_thread(app, user.id, title="Sprint 12 refinement")
        add_thread(app, user.id, title="Budget call")
        add_thread(app, user.id, title="100% done_check")
        response = client.get("/chats?q=REFINE", headers=_hx("chat-list"))
        assert "<html" not in _text(response) and 'id="chat-list"' in _text(response)
        assert _titles(_text(response)) == ["Sprint 12 refinement"]
        # LIKE wildcards typed by the user are literal characters.
        assert _titles(_text(client.get("/chats?q=%25"))) == ["100% done_check"]
        assert _titles(_text(client.get("/chats?q=_"))) == ["100% done_check"]
        nothing = _text(client.get("/chats?q=zebra"))
        assert "No chats match" in nothing and "Clear filters" in nothing

    def test_project_deletion_leaves_its_chats_under_no_project(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        project_id = add_project(app, user.id, "Short-lived")
        thread_id = add_thread(app, user.id, title="Survivor", project_id=project_id)
        add_message(app, thread_id, "still here")
        with app.app_context():
            db.session.execute(sa.delete(Project).where(Project.id == project_id))
            db.session.commit()
        page = _text(client.get("/chats"))
        assert "Survivor" in page and "No project" in page and "Short-lived" not in page
        assert "1 message" in page
        assert _titles(_text(client.get("/chats?project=none"))) == ["Survivor"]

    def test_query_count_does_not_grow_with_the_number_of_chats(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        project_id = add_project(app, user.id)

        def chats_page_queries() -> int:
            with counting_queries(app) as log:
                response = client.get("/chats")
            assert response.status_code == 200
            return len(log)

        ids = add_threads(app, user.id, 10, project_id=project_id)
        for thread_id in ids[:5]:
            add_message(app, thread_id, "hello")
        with_ten = chats_page_queries()
        add_threads(app, user.id, 990)
        with_thousand = chats_page_queries()
        assert with_ten == with_thousand <= 6


class TestAssistantPage:
    def test_lists_only_assistant_chats_newest_first(self, app: Flask, client: FlaskClient, user: User) -> None:
        add_thread(app, user.id, title="Plan my week", thread_type="assistant", last_activity_at=START)
        add_thread(app, user.id, title="Draft an email", thread_type="assistant", last_activity_at=START + timedelta(1))
        add_thread(app, user.id, title="A BA chat")
        page = _text(client.get("/assistant"))
        assert _titles(page) == ["Draft an email", "Plan my week"]
        assert "Add to project" not in page and "No project" not in page

    def test_pages_and_title_search(self, app: Flask, client: FlaskClient, user: User) -> None:
        add_threads(app, user.id, 26, thread_type="assistant")
        page = _text(client.get("/assistant"))
        assert len(_titles(page)) == 25 and "/assistant?after=" in _load_more_url(page)
        assert _titles(_text(client.get("/assistant?q=chat 7"))) == ["Chat 7"]


class TestHome:
    def test_first_run_guide_when_the_user_has_nothing(self, client: FlaskClient, user: User) -> None:
        page = _text(client.get("/"))
        assert "Welcome, Ana" in page and "Getting started" in page
        for step in ("Create a project", "Upload documents", "Start a chat"):
            assert step in page
        assert "No API key configured yet? The offline provider still answers" in page

    @pytest.mark.parametrize("app_config", [{"DEEPSEEK_API_KEY": "configured"}])
    def test_first_run_guide_says_nothing_of_keys_once_one_is_set(self, client: FlaskClient, user: User) -> None:
        page = _text(client.get("/"))
        assert "Getting started" in page and "No API key configured" not in page

    def test_three_recent_projects_and_recent_chats(self, app: Flask, client: FlaskClient, user: User) -> None:
        for number in range(4):
            add_project(app, user.id, f"Project {number}", last_activity_at=START + timedelta(days=number))
        add_thread(app, user.id, title="Recent BA chat", last_activity_at=START + timedelta(days=5))
        add_thread(app, user.id, title="Recent assistant chat", thread_type="assistant")
        page = _text(client.get("/"))
        assert "Getting started" not in page
        assert "Project 3" in page and "Project 1" in page and "Project 0" not in page
        assert page.index("Project 3") < page.index("Project 2") < page.index("Project 1")
        assert "Recent BA chat" in page and "Recent assistant chat" in page


class TestProjectChats:
    def test_sorts_by_newest_oldest_and_title_with_counts(self, app: Flask, client: FlaskClient, user: User) -> None:
        project_id = add_project(app, user.id, "Acme")
        first = add_thread(app, user.id, title="beta", project_id=project_id, created_at=START)
        add_thread(app, user.id, title="Alpha", project_id=project_id, created_at=START + timedelta(days=1))
        add_thread(app, user.id, project_id=project_id, created_at=START + timedelta(days=2))
        add_thread(app, user.id, title="Elsewhere")
        add_message(app, first, "a")
        add_message(app, first, "b")
        url = f"/projects/{project_id}/chats"
        assert _titles(_text(client.get(url))) == ["Untitled chat", "Alpha", "beta"]
        assert _titles(_text(client.get(f"{url}?sort=oldest"))) == ["beta", "Alpha", "Untitled chat"]
        assert _titles(_text(client.get(f"{url}?sort=title"))) == ["Alpha", "beta", "Untitled chat"]
        fragment = _text(client.get(f"{url}?sort=title", headers=_hx("project-chats")))
        assert "<html" not in fragment and 'id="project-chats"' in fragment and "2 messages" in fragment

    def test_partial_renders_inside_another_page(self, app: Flask, client: FlaskClient, user: User) -> None:
        from flask import render_template

        from webapp.threads import service

        project_id = add_project(app, user.id, "Acme")
        add_thread(app, user.id, title="Included", project_id=project_id)
        with app.test_request_context():
            project = db.session.get(Project, project_id)
            html_text = render_template(
                "threads/_project_chats.html",
                project=project,
                chat_sort="newest",
                project_chats=service.project_threads(user.id, project_id),
            )
        assert "Included" in html_text and "Offline" in html_text


class TestRowActions:
    def test_rename_inline(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user.id, title="Old name")
        row = f"thread-{thread_id}"
        form = _text(client.get(f"/threads/{thread_id}/rename?next=/chats", headers=_hx(row)))
        assert "<html" not in form and 'value="Old name"' in form and f'id="{row}"' in form
        saved = client.post(
            f"/threads/{thread_id}/rename", data={"title": "  New   name ", "next": "/chats"}, headers=_hx(row)
        )
        assert saved.status_code == 200 and "New name" in _text(saved) and "<html" not in _text(saved)
        thread = get_thread(app, thread_id)
        assert thread.title == "New name" and thread.title_locked
        cancel = _text(client.get(f"/threads/{thread_id}/row", headers=_hx(row)))
        assert "New name" in cancel and "Rename" in cancel

    def test_rename_without_javascript(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user.id, title="Old name")
        page = _text(client.get(f"/threads/{thread_id}/rename?next=/chats?q=old"))
        assert "<html" in page and "Rename chat" in page
        response = client.post(f"/threads/{thread_id}/rename", data={"title": "Renamed", "next": "/chats?q=old"})
        assert response.status_code == 303 and response.headers["Location"] == "/chats?q=old"
        page = _text(client.get("/chats"))
        assert "Chat renamed." in page and "Renamed" in page

    def test_rename_errors(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user.id, title="Keep")
        row = f"thread-{thread_id}"
        empty = client.post(f"/threads/{thread_id}/rename", data={"title": "   "}, headers=_hx(row))
        assert empty.status_code == 422 and "Enter a title." in _text(empty)
        long = client.post(f"/threads/{thread_id}/rename", data={"title": "x" * 201})
        assert long.status_code == 422 and "Field cannot be longer than 200 characters." in _text(long)
        assert get_thread(app, thread_id).title == "Keep"

    def test_rename_never_redirects_off_site(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user.id, title="Keep")
        response = client.post(f"/threads/{thread_id}/rename", data={"title": "X", "next": "//evil.example/"})
        assert response.headers["Location"] == "/chats"

    def test_delete_with_confirmation_page(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user.id, title="Doomed")
        add_message(app, thread_id, "bye")
        page = _text(client.get(f"/threads/{thread_id}/delete?next=/chats"))
        assert "Delete “Doomed”?" in page and "cannot be undone" in page
        assert 'hx-confirm="Delete “Doomed” and all its messages?' in _text(client.get("/chats"))
        response = client.post(f"/threads/{thread_id}/delete", data={"next": "/chats"})
        assert response.status_code == 303 and response.headers["Location"] == "/chats"
        listing = _text(client.get("/chats"))
        assert "Chat deleted." in listing and "Doomed" not in listing and "No chats yet" in listing
        assert client.get(f"/threads/{thread_id}").status_code == 404
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0

    def test_delete_inline(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user.id, title="Doomed")
        response = client.post(f"/threads/{thread_id}/delete", headers=_hx(f"thread-{thread_id}"))
        assert response.status_code == 200 and _text(response) == ""
        assert get_thread(app, thread_id) is None

    def test_add_a_project_less_chat_to_a_project_then_move_it(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        acme = add_project(app, user.id, "Acme")
        globex = add_project(app, user.id, "Globex")
        thread_id = add_thread(app, user.id, title="Wanderer")
        row = f"thread-{thread_id}"
        assert "Add to project" in _text(client.get("/chats"))
        form = _text(client.get(f"/threads/{thread_id}/move", headers=_hx(row)))
        assert "<html" not in form and "Acme" in form and "Globex" in form
        moved = client.post(f"/threads/{thread_id}/move", data={"project_id": acme}, headers=_hx(row))
        assert moved.status_code == 200 and "Acme" in _text(moved) and "Move" in _text(moved)
        assert get_thread(app, thread_id).project_id == acme
        response = client.post(f"/threads/{thread_id}/move", data={"project_id": globex, "next": "/chats"})
        assert response.status_code == 303
        assert "Chat moved to Globex." in _text(client.get("/chats"))
        assert _titles(_text(client.get(f"/projects/{globex}/chats"))) == ["Wanderer"]

    def test_move_without_projects_says_what_to_do(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user.id)
        assert "You have no projects yet" in _text(client.get(f"/threads/{thread_id}/move"))

    def test_assistant_chats_do_not_move_to_projects(self, app: Flask, client: FlaskClient, user: User) -> None:
        project_id = add_project(app, user.id)
        thread_id = add_thread(app, user.id, thread_type="assistant")
        assert client.post(f"/threads/{thread_id}/move", data={"project_id": project_id}).status_code == 404
        assert get_thread(app, thread_id).project_id is None


class TestIsolation:
    @pytest.fixture
    def ben(self, app: Flask) -> FlaskClient:
        return other_client(app)

    def _bens_ids(self, app: Flask) -> tuple[str, str]:
        with app.app_context():
            ben_id = db.session.scalar(sa.select(User.id).where(User.email == "ben@example.com"))
        return add_thread(app, ben_id, title="Ben's secret chat"), add_project(app, ben_id, "Ben's project")

    def test_another_users_thread_is_a_404_everywhere(
        self, app: Flask, client: FlaskClient, user: User, ben: FlaskClient
    ) -> None:
        thread_id, project_id = self._bens_ids(app)
        mine = add_project(app, user.id)
        for path in ("", "/rename", "/move", "/delete", "/row", "/export.md", "/export.json"):
            assert client.get(f"/threads/{thread_id}{path}").status_code == 404, path
        posts = {"/rename": {"title": "Mine now"}, "/move": {"project_id": mine}, "/delete": {}}
        for path, data in posts.items():
            assert client.post(f"/threads/{thread_id}{path}", data=data).status_code == 404, path
        assert get_thread(app, thread_id).title == "Ben's secret chat"
        assert ben.get(f"/threads/{thread_id}").status_code == 200

    def test_another_users_project_is_a_404_everywhere(
        self, app: Flask, client: FlaskClient, user: User, ben: FlaskClient
    ) -> None:
        _, project_id = self._bens_ids(app)
        mine = add_thread(app, user.id)
        assert client.get(f"/projects/{project_id}/chats").status_code == 404
        assert client.get(f"/chats?project={project_id}").status_code == 404
        assert client.get(f"/chats/new?project_id={project_id}").status_code == 404
        assert client.post("/chats", data={"project_id": project_id}).status_code == 404
        assert client.post(f"/threads/{mine}/move", data={"project_id": project_id}).status_code == 404
        assert threads_of(app, user.id)[0].project_id is None

    def test_lists_show_only_the_users_own_chats(
        self, app: Flask, client: FlaskClient, user: User, ben: FlaskClient
    ) -> None:
        self._bens_ids(app)
        add_thread(app, user.id, title="Ana's chat")
        for path in ("/chats", "/", "/chats?q=chat"):
            page = _text(client.get(path))
            assert "Ana&#39;s chat" in page and "Ben&#39;s" not in page, path


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"WTF_CSRF_ENABLED": True}

    def test_one_click_forms_carry_the_token(self, app: Flask, client: FlaskClient) -> None:
        token = csrf_token_from(client.get("/register").get_data(as_text=True))
        AuthActions(client).register(csrf_token=token)
        home = _text(client.get("/"))
        assert client.post("/chats", data={}).status_code == 400
        response = client.post("/chats", data={"csrf_token": csrf_token_from(home)})
        assert response.status_code == 303 and response.headers["Location"].startswith("/threads/")
