"""NUL and other characters PostgreSQL cannot store, in every kind of input: never a 500, nothing else lost."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Document, DocumentChunk, Message, Project, Task, User

from ..chat_helpers import make_thread, read_stream, reply_id_from, wait_for_reply, wait_for_title
from ..conftest import AuthActions
from ..fakes import FakeServer, text_reply, tool_reply
from ..imports import wait_for_imports

# A NUL, and a lone surrogate (what a JSON "\ud800" escape decodes to): neither fits in a
# PostgreSQL text column, and the second is not UTF-8 at all.
NUL, SURROGATE = "\x00", "\ud800"
FORM_FIELDS = (
    "content",
    "title",
    "name",
    "description",
    "instructions",
    "email",
    "display_name",
    "password",
    "confirm",
    "current_password",
    "new_password",
    "provider",
    "model",
    "mode",
    "skill",
    "project_id",
    "due_date",
    "priority",
    "timezone",
    "next",
    "scope",
    "theme",
    "default_provider",
    "q",
)
QUERY = {
    name: f"a{NUL}b"
    for name in (
        "q",
        "after",
        "before",
        "project",
        "provider",
        "sort",
        "next",
        "poll",
        "was",
        "scope",
        "status",
        "page",
        "project_id",
    )
}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {}


# Routes whose purpose is to end the visitor's session: the sweep goes on signed in.
_ENDS_THE_SESSION = ("static", "auth.logout", "auth.end_all_sessions")


def _url(rule: str, value: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", value, rule)


def _sweep(app: Flask, client: FlaskClient, value: str) -> list[str]:
    failures = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in _ENDS_THE_SESSION:
            continue
        url = _url(rule.rule, value)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            form = {name: f"x{value}y" for name in FORM_FIELDS} if method == "POST" else None
            response = client.open(url, method=method, query_string=QUERY, data=form)
            if response.status_code >= 500:
                failures.append(f"{method} {rule.rule}: {response.status_code}")
    return failures


def test_no_form_field_query_string_or_url_with_a_nul_answers_500(app: Flask, client: FlaskClient, user: User) -> None:
    make_thread(app, user.id)
    assert _sweep(app, client, f"id{NUL}0") == []
    assert client.get("/chats").status_code == 200  # and the session still works


def test_text_from_forms_is_kept_without_the_unstorable_characters(app: Flask, client: FlaskClient, user: User) -> None:
    client.post("/projects", data={"name": f"Road{NUL}map", "description": f"Q1{NUL} plan"})
    client.post("/tasks", data={"title": f"Call{NUL} the vendor", "priority": "high"})
    thread_id = make_thread(app, user.id)
    posted = client.post(
        f"/threads/{thread_id}/messages", data={"content": f"What is{NUL} in scope?"}, headers={"HX-Request": "true"}
    )
    assert posted.status_code == 200
    wait_for_reply(app, reply_id_from(posted.get_data(as_text=True)))
    with app.app_context():
        project = db.session.scalar(sa.select(Project))
        assert (project.name, project.description) == ("Roadmap", "Q1 plan")
        assert db.session.scalar(sa.select(Task.title)) == "Call the vendor"
        question = db.session.scalar(sa.select(Message).where(Message.role == "user"))
        assert question.content == "What is in scope?"
    assert "What is in scope?" in client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "What is in scope?" in client.get(f"/chats/search?q=scope{NUL}").get_data(as_text=True)


def test_an_account_registered_with_unstorable_characters_can_log_in(app: Flask, client: FlaskClient) -> None:
    # Sent as bytes, as a crafted client would: a NUL and the UTF-8-like form of a surrogate.
    form = (
        "email=nul%00%40example.com&display_name=Ana%00%ED%A0%80&password=correct+horse+battery"
        "&confirm=correct+horse+battery"
    )
    registered = client.post("/register", data=form, content_type="application/x-www-form-urlencoded")
    assert registered.status_code == 303
    AuthActions(client).logout()
    assert AuthActions(client).login(email="nul@example.com").status_code == 303
    with app.app_context():
        name = db.session.scalar(sa.select(User.display_name))
    # Bytes that are not UTF-8 are kept as their %-escapes (werkzeug's choice); the NUL is gone.
    assert name == "Ana%ED%A0%80"


def test_document_text_is_stored_without_nul(app: Flask, client: FlaskClient, user: User) -> None:
    client.post("/projects", data={"name": "Docs"})
    with app.app_context():
        project_id = db.session.scalar(sa.select(Project.id))
    files = {
        "files": [
            (io.BytesIO(f"name,notes\nAna,late{NUL} payer\n".encode()), "people.csv"),
            (io.BytesIO(f"Scope{NUL} of phase one.".encode()), "scope.txt"),
        ]
    }
    response = client.post(f"/projects/{project_id}/documents", data=files, content_type="multipart/form-data")
    assert response.status_code < 500
    wait_for_imports(app)
    with app.app_context():
        texts = " ".join(db.session.scalars(sa.select(DocumentChunk.text)))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 2
    assert NUL not in texts and "late payer" in texts and "Scope of phase one." in texts


class TestModelOutput:
    @pytest.fixture
    def app_config(self, provider: str, fake: FakeServer) -> dict[str, Any]:
        from ..chat_helpers import PROVIDERS

        return {**PROVIDERS[provider][1](fake.url), "LLM_MAX_RETRIES": 0}

    def test_a_reply_with_unstorable_characters_is_kept_whole_minus_them(
        self, app: Flask, client: FlaskClient, user: User, provider: str, fake: FakeServer
    ) -> None:
        fake.script(
            tool_reply("create_task", {"title": f"Chase{NUL} the {SURROGATE}invoice"}, text=f"On{NUL} it. "),
            text_reply(f"Before{NUL}after, {SURROGATE} and the rest.", chunks=3),
            text_reply(f"Invoice{NUL} chase"),
        )
        thread_id = make_thread(app, user.id, model_provider=provider)
        posted = client.post(
            f"/threads/{thread_id}/messages", data={"content": "Chase it"}, headers={"HX-Request": "true"}
        )
        reply_id = reply_id_from(posted.get_data(as_text=True))
        events = read_stream(client, reply_id)
        expected = "On it. Before" + "after, \ufffd and the rest."
        assert "".join(e.data for e in events if e.event == "delta") == expected
        reply = wait_for_reply(app, reply_id)
        assert (reply.status, reply.content) == ("complete", expected)
        assert events[-1].event == "done" and "and the rest." in events[-1].data
        with app.app_context():
            assert db.session.scalar(sa.select(Task.title)) == "Chase the \ufffdinvoice"
        assert wait_for_title(app, thread_id) == "Invoice chase"
        assert client.post(f"/threads/{thread_id}/messages", data={"content": "Next"}).status_code == 303
