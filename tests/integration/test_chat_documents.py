"""Chats that answer from documents: the offline provider searches, quotes and cites them."""

from __future__ import annotations

import html
import io

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Project, User

from ..chat_helpers import make_thread, read_stream, reply_id_from, wait_for_reply
from ..imports import wait_for_imports

NOTES = (
    "Kick-off notes.\n\n"
    "The onboarding flow must let a new customer verify their identity with a passport or a driving licence.\n\n"
    "Reporting is out of scope for phase one."
)


def _upload(client: FlaskClient, thread_id: str) -> None:
    response = client.post(
        f"/threads/{thread_id}/documents",
        data={"files": (io.BytesIO(NOTES.encode()), "kickoff.txt"), "next": f"/threads/{thread_id}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    wait_for_imports(client.application)


def test_offline_answers_from_the_chats_own_documents(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = make_thread(app, user.id, thread_type="assistant")
    _upload(client, thread_id)
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "kickoff.txt" in page and "Documents" in page

    posted = client.post(
        f"/threads/{thread_id}/messages",
        data={"content": "How do customers verify their identity?"},
        headers={"HX-Request": "true"},
    )
    reply_id = reply_id_from(posted.get_data(as_text=True))
    events = read_stream(client, reply_id)
    assert any(
        e.event == "tool"
        and 'Searched documents for "How do customers verify their identity?"' in html.unescape(e.data)
        for e in events
    )
    reply = wait_for_reply(app, reply_id)
    assert reply.status == "complete"
    assert "passport or a driving licence" in reply.content and "kickoff.txt" in reply.content
    assert "/documents/" in reply.content and "#chunk-1" in reply.content
    final = events[-1].data
    assert 'href="/documents/' in final and "No language model is configured" in final


def test_project_chat_searches_the_project_documents(app: Flask, client: FlaskClient, user: User) -> None:
    client.post("/projects", data={"name": "Acme", "description": ""})
    with app.app_context():
        project_id = db.session.scalar(sa.select(Project.id))
    client.post(
        f"/projects/{project_id}/documents",
        data={"files": (io.BytesIO(NOTES.encode()), "kickoff.txt")},
        content_type="multipart/form-data",
    )
    wait_for_imports(app)
    thread_id = make_thread(app, user.id, project_id=project_id)
    reply_id = reply_id_from(
        client.post(
            f"/threads/{thread_id}/messages", data={"content": "Is reporting in scope?"}, headers={"HX-Request": "true"}
        ).get_data(as_text=True)
    )
    reply = wait_for_reply(app, reply_id)
    assert "Reporting is out of scope" in reply.content
    assert reply.tool_calls[0]["name"] == "search_documents"


def test_a_chat_without_documents_gets_no_search_tool(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = make_thread(app, user.id, thread_type="assistant")
    reply_id = reply_id_from(
        client.post(
            f"/threads/{thread_id}/messages", data={"content": "Hello"}, headers={"HX-Request": "true"}
        ).get_data(as_text=True)
    )
    reply = wait_for_reply(app, reply_id)
    assert not reply.tool_calls and "No language model is configured" in reply.content
