"""Every reply ends honestly: cut at the length limit, filtered, ended early, each said so; Continue goes on."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Message, Thread, TokenUsage, User

from ..chat_helpers import make_thread, messages_of, read_stream, reply_id_from, wait_for_reply
from ..fakes import FakeServer, text_reply

HX = {"HX-Request": "true", "HX-Target": "messages"}
# A reason of each provider's own that is neither a limit nor a filter.
OTHER_REASON = {
    "anthropic": "pause_turn",
    "openai": "insufficient_system_resource",
    "gemini": "MALFORMED_FUNCTION_CALL",
}


def _ask(app: Flask, client: FlaskClient, thread_id: str, text: str = "Write the whole BRD") -> tuple[str, list]:
    posted = client.post(f"/threads/{thread_id}/messages", data={"content": text}, headers=HX)
    reply_id = reply_id_from(posted.get_data(as_text=True))
    return reply_id, read_stream(client, reply_id)


# Each kind of cut once, each through another wire protocol (the unit tests map every reason of every one).
@pytest.mark.parametrize(
    ("provider", "stop", "cut_reason", "marker"),
    [
        ("anthropic", "max_tokens", "length", "Cut off at the length limit"),
        ("gemini", "refusal", "filter", "content filter"),
        ("openai", "other", "other", "ended this reply early"),
    ],
)
def test_a_cut_reply_says_why_on_the_page_in_its_stream_and_in_exports(
    app: Flask,
    client: FlaskClient,
    user: User,
    provider: str,
    fake: FakeServer,
    stop: str,
    cut_reason: str,
    marker: str,
) -> None:
    options = {"stop_reason": OTHER_REASON[provider]} if stop == "other" else {"stop": stop}
    fake.script(text_reply("The first half of the", chunks=3, **options))
    thread_id = make_thread(app, user.id, model_provider=provider)
    reply_id, events = _ask(app, client, thread_id)
    reply = wait_for_reply(app, reply_id)
    assert (reply.status, reply.cut_reason, reply.content) == ("cut", cut_reason, "The first half of the")
    done = events[-1]
    assert done.event == "done" and marker in done.data and "The first half of the" in done.data
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert marker in page
    assert (f"/messages/{reply_id}/continue" in page) == (cut_reason == "length")
    if stop == "other":
        assert OTHER_REASON[provider] in page
    exported = json.loads(client.get(f"/threads/{thread_id}/export.json").get_data(as_text=True))
    assert exported["messages"][-1]["status"] == "cut" and exported["messages"][-1]["cut_reason"] == cut_reason
    markdown = client.get(f"/threads/{thread_id}/export.md").get_data(as_text=True)
    assert "status: cut" in markdown and marker in markdown


def test_continue_asks_the_same_model_and_appends_to_the_same_reply(
    app: Flask, client: FlaskClient, user: User, provider: str, fake: FakeServer
) -> None:
    fake.script(
        text_reply("Scope: billing, ", chunks=2, stop="max_tokens", input_tokens=40, output_tokens=5),
        text_reply("invoicing and ", chunks=2, stop="max_tokens", input_tokens=50, output_tokens=4),
        text_reply("refunds.", chunks=1, input_tokens=60, output_tokens=2),
        text_reply("Scope"),
    )
    thread_id = make_thread(app, user.id, model_provider=provider, model_name="model-a")
    reply_id, first = _ask(app, client, thread_id)
    seq = max(e.id for e in first if e.id is not None and e.event == "delta")
    # The chat moves to another model meanwhile: the cut reply still goes on with the one that wrote it.
    client.post(f"/threads/{thread_id}/settings", data={"provider": "offline"})
    texts = ["Scope: billing, "]
    for part in ("invoicing and ", "refunds."):
        continued = client.post(f"/messages/{reply_id}/continue", headers=HX)
        html = continued.get_data(as_text=True)
        assert continued.status_code == 200 and reply_id_from(html) == reply_id
        assert f"/messages/{reply_id}/stream?after={seq}" in html and texts[-1] in html
        events = read_stream(client, reply_id, after=seq)
        deltas = [e for e in events if e.event == "delta"]
        assert deltas[0].id == seq + 1 and "".join(e.data for e in deltas) == part
        seq = deltas[-1].id
        texts.append(part)
    reply = wait_for_reply(app, reply_id)
    assert (reply.status, reply.content) == ("complete", "Scope: billing, invoicing and refunds.")
    assert (reply.input_tokens, reply.output_tokens) == (150, 11) and reply.model == "model-a"
    assert [m.id for m in messages_of(app, thread_id) if m.role == "assistant"] == [reply_id]
    last_request = json.dumps(fake.requests[2].json())
    assert "Scope: billing, invoicing and " in last_request and "cut off" in last_request
    assert "model-a" in fake.requests[2].path + last_request
    with app.app_context():
        rows = db.session.scalars(sa.select(TokenUsage.output_tokens).where(TokenUsage.purpose == "chat")).all()
        assert sorted(rows) == [2, 4, 5]
        assert db.session.get(Thread, thread_id).model_provider == "offline"


@pytest.mark.parametrize("provider", ["anthropic"])
def test_only_a_reply_cut_at_the_length_limit_can_be_continued(
    app: Flask, client: FlaskClient, user: User, provider: str, fake: FakeServer
) -> None:
    fake.script(text_reply("Done.", stop="refusal"))
    thread_id = make_thread(app, user.id, model_provider=provider)
    reply_id, _ = _ask(app, client, thread_id)
    wait_for_reply(app, reply_id)
    refused = client.post(f"/messages/{reply_id}/continue", headers=HX)
    assert refused.status_code == 409 and "Only a reply cut off at the length limit" in refused.get_data(as_text=True)
    with app.app_context():
        question = db.session.scalar(sa.select(Message.id).where(Message.role == "user"))
    assert client.post(f"/messages/{question}/continue", headers=HX).status_code == 409
    from ..conftest import other_client

    assert other_client(app).post(f"/messages/{reply_id}/continue").status_code == 404
