"""A whole conversation turn, with a tool call, through every provider's real SDK and wire protocol."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Task, TokenUsage, User

from .. import provider_fixtures
from ..chat_helpers import PROVIDERS, make_thread, read_stream, reply_id_from, wait_for_reply
from ..fakes import FakeServer, text_reply, tool_reply

app_config, fake = provider_fixtures.app_config, provider_fixtures.fake


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request: pytest.FixtureRequest) -> str:
    return request.param


def test_a_turn_with_a_tool_call(app: Flask, client: FlaskClient, user: User, provider: str, fake: FakeServer) -> None:
    fake.script(
        tool_reply("create_task", {"title": "Book the workshop room ✓", "due_date": "2026-12-01"}, pieces=4),
        text_reply("Done — the workshop task is on your list. 🎉", chunks=5),
        text_reply("Workshop logistics"),
    )
    thread_id = make_thread(app, user.id, model_provider=provider, conversation_mode="meeting")
    response = client.post(
        f"/threads/{thread_id}/messages", data={"content": "Remind me to book the room"}, headers={"HX-Request": "true"}
    )
    reply_id = reply_id_from(response.get_data(as_text=True))
    events = read_stream(client, reply_id)
    assert any(e.event == "tool" and "Added task" in e.data for e in events)
    assert events[-1].event == "done" and "the workshop task is on your list. 🎉" in events[-1].data
    reply = wait_for_reply(app, reply_id)
    assert reply.status == "complete" and reply.provider == provider
    assert reply.content == "Done — the workshop task is on your list. 🎉"
    with app.app_context():
        task = db.session.scalar(sa.select(Task))
        assert task.title == "Book the workshop room ✓" and str(task.due_date) == "2026-12-01"
        purposes = set(db.session.scalars(sa.select(TokenUsage.purpose)))
    assert "chat" in purposes
    second_request = fake.requests[1].body.decode()
    assert "Book the workshop room" in second_request and "task_id" in second_request
