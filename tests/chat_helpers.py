"""Helpers for tests that hold conversations: threads, waiting for replies, reading streams."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Message, Thread, new_id, utcnow

from .fakes import FakeAnthropic, FakeGemini, FakeOpenAI, FakeServer

# Each provider: its fake server, and the settings that point the app at a running one.
PROVIDERS: dict[str, tuple[type[FakeServer], Callable[[str], dict[str, Any]]]] = {
    "anthropic": (FakeAnthropic, lambda url: {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": url}),
    "openai": (FakeOpenAI, lambda url: {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": url + "/v1"}),
    "deepseek": (FakeOpenAI, lambda url: {"DEEPSEEK_API_KEY": "k", "DEEPSEEK_BASE_URL": url}),
    "openai_compatible": (
        FakeOpenAI,
        lambda url: {"OPENAI_COMPATIBLE_BASE_URL": url + "/v1", "OPENAI_COMPATIBLE_MODEL": "llama3.2"},
    ),
    "gemini": (FakeGemini, lambda url: {"GEMINI_API_KEY": "k", "GEMINI_BASE_URL": url}),
}


@dataclass(frozen=True)
class SSEEvent:
    id: int | None
    event: str | None
    data: str


def make_thread(app: Flask, user_id: str, **fields: object) -> str:
    with app.app_context():
        thread = Thread(user_id=user_id, model_provider=fields.pop("model_provider", "offline"), **fields)
        db.session.add(thread)
        db.session.commit()
        return thread.id


def one_branch(*messages: Message) -> list[Message]:
    """Messages that follow one another, as a chat writes them: each names the one before as its parent."""
    previous: str | None = None
    for message in messages:
        message.id = message.id or new_id()
        message.parent_id = previous
        previous = message.id
    return list(messages)


def make_reply(app: Flask, user_id: str, *, status: str = "streaming", seq: int = 0, content: str = "") -> str:
    """An assistant message in a new thread, as a runner would find it."""
    thread_id = make_thread(app, user_id)
    with app.app_context():
        message = Message(
            thread_id=thread_id, role="assistant", status=status, content=content, stream_seq=seq, created_at=utcnow()
        )
        db.session.add(message)
        db.session.commit()
        return message.id


def reply_state(app: Flask, message_id: str) -> tuple[int, str, str]:
    """A message's saved event number, text and status."""
    with app.app_context():
        message = db.session.get(Message, message_id)
        return message.stream_seq, message.content, message.status


def wait_for_reply(app: Flask, message_id: str, timeout: float = 15.0) -> Message:
    """Poll until the reply is no longer streaming; return it (detached)."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            message = db.session.get(Message, message_id)
            if message.status != "streaming":
                db.session.expunge(message)
                return message
        if time.monotonic() > deadline:
            raise AssertionError(f"reply {message_id} still streaming after {timeout}s")
        time.sleep(0.02)


def wait_for_title(app: Flask, thread_id: str, timeout: float = 5.0) -> str | None:
    """The thread's title once its reply's runner has made one (None if none came in time)."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            title = db.session.get(Thread, thread_id).title
        if title or time.monotonic() > deadline:
            return title
        time.sleep(0.02)


def wait_for_text(app: Flask, message_id: str, timeout: float = 5.0) -> None:
    """Wait until the reply's first text has reached its streams."""
    broker, deadline = app.extensions["chat.broker"], time.monotonic() + timeout
    while not any(event.kind == "delta" for event in broker.read(message_id, 0, timeout=0.1) or []):
        if time.monotonic() > deadline:
            raise AssertionError(f"reply {message_id} has no text after {timeout}s")


def messages_of(app: Flask, thread_id: str) -> list[Message]:
    with app.app_context():
        found = list(
            db.session.scalars(sa.select(Message).where(Message.thread_id == thread_id).order_by(Message.created_at))
        )
        for message in found:
            db.session.expunge(message)
        return found


def reply_id_from(html: str) -> str:
    ids = re.findall(r'id="message-([0-9a-f-]{36})"', html)
    assert ids, "no message bubble in the response"
    return ids[-1]


def parse_sse(body: str) -> list[SSEEvent]:
    """Events as EventSource reads them: a line ends at CRLF, CR or LF; a blank line ends an event."""
    events: list[SSEEvent] = []
    fields: dict[str, list[str]] = {}
    for line in re.split(r"\r\n|\r|\n", body):
        if not line:
            if "data" in fields:
                raw_id = fields.get("id", [None])[0]
                events.append(
                    SSEEvent(int(raw_id) if raw_id else None, fields.get("event", [None])[0], "\n".join(fields["data"]))
                )
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)
    return events


def read_stream(client: FlaskClient, message_id: str, after: int = 0, headers: dict | None = None) -> list[SSEEvent]:
    response = client.get(f"/messages/{message_id}/stream?after={after}", headers=headers or {})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    return parse_sse(response.get_data(as_text=True))
