"""Every ended reply records what it used: the provider's count, or an estimate marked as one."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.chat.usage import month_spend
from webapp.extensions import db
from webapp.models import TokenUsage, User

from ..chat_helpers import make_thread, reply_id_from, wait_for_reply, wait_for_text
from ..fakes import FakeServer, error_reply, text_reply, token_reply

HX = {"HX-Request": "true", "HX-Target": "messages"}


def _post(app: Flask, client: FlaskClient, user: User, provider: str, text: str = "Draft the scope") -> str:
    thread_id = make_thread(app, user.id, model_provider=provider, title="Named", title_locked=True)
    posted = client.post(f"/threads/{thread_id}/messages", data={"content": text}, headers=HX)
    return reply_id_from(posted.get_data(as_text=True))


def _usage_rows(app: Flask) -> list[tuple[str, int, int, bool]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(
                TokenUsage.message_id, TokenUsage.input_tokens, TokenUsage.output_tokens, TokenUsage.estimated
            ).where(TokenUsage.purpose == "chat")
        ).all()
    return [(r[0], r[1], r[2], bool(r[3])) for r in rows]


def _wait_for_usage(app: Flask, count: int = 1, timeout: float = 5) -> list[tuple[str, int, int, bool]]:
    deadline = time.monotonic() + timeout
    while len(rows := _usage_rows(app)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return rows


def test_a_stopped_reply_records_an_estimate_that_counts_against_the_budget(
    app: Flask, client: FlaskClient, user: User, provider: str, fake: FakeServer
) -> None:
    fake.script(token_reply(400, delay=0.02))
    reply_id = _post(app, client, user, provider, "Draft the scope " * 50)
    wait_for_text(app, reply_id)
    time.sleep(0.2)
    assert client.post(f"/messages/{reply_id}/stop", headers=HX).status_code == 204
    reply = wait_for_reply(app, reply_id)
    assert reply.status == "stopped"
    [(message_id, input_tokens, output_tokens, estimated)] = _wait_for_usage(app)
    assert message_id == reply_id and estimated
    # The question alone is 800 characters: about 200 tokens, with the system prompt on top.
    assert input_tokens > 200 and output_tokens >= len(reply.content) // 4 > 0
    with app.app_context():
        from webapp.models import Message

        saved = db.session.get(Message, reply_id)
        assert (saved.input_tokens, saved.output_tokens) == (input_tokens, output_tokens)
        assert month_spend(db.session.get(User, user.id)) > 0


@pytest.mark.parametrize("provider", ["anthropic"])
@pytest.mark.parametrize(
    "broken",
    [
        {"ending": "break", "cut_after": 3},  # the connection drops: interrupted
        {"error_after": 3},  # an error event mid-stream: error
    ],
)
def test_a_broken_reply_records_an_estimate(
    app: Flask, client: FlaskClient, user: User, provider: str, fake: FakeServer, broken: dict
) -> None:
    fake.script(text_reply("One, two, three, four, five.", chunks=5, **broken))
    reply_id = _post(app, client, user, provider)
    assert wait_for_reply(app, reply_id).status in ("interrupted", "error")
    [(_, input_tokens, output_tokens, estimated)] = _wait_for_usage(app)
    assert estimated and input_tokens > 0 and output_tokens > 0


@pytest.mark.parametrize("provider", ["anthropic"])
def test_counts_the_provider_sent_are_used_as_they_are(
    app: Flask, client: FlaskClient, user: User, provider: str, fake: FakeServer
) -> None:
    fake.script(text_reply("Cut here", stop="max_tokens", input_tokens=321, output_tokens=45))
    reply_id = _post(app, client, user, provider)
    assert wait_for_reply(app, reply_id).status == "cut"
    assert _wait_for_usage(app) == [(reply_id, 321, 45, False)]


@pytest.mark.parametrize("provider", ["anthropic"])
def test_a_request_the_provider_refused_uses_nothing(
    app: Flask, client: FlaskClient, user: User, provider: str, fake: FakeServer
) -> None:
    fake.script(error_reply(429))
    reply_id = _post(app, client, user, provider)
    assert wait_for_reply(app, reply_id).status == "error"
    time.sleep(0.2)
    assert _usage_rows(app) == []
