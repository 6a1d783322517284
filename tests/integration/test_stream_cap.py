"""A user's open reply streams are capped: one stream too many closes their oldest, which tells its
page to follow the reply by asking for the message instead; counted across processes with Redis."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Message, User, utcnow

from ..chat_helpers import make_reply, parse_sse
from ..conftest import AuthActions, make_app


def streaming_reply(app: Flask, user: User, text: str) -> str:
    """A reply being written by a runner that holds its lease (no stream has seen an event of it)."""
    message_id = make_reply(app, user.id, seq=3, content=text)
    with app.app_context():
        db.session.execute(
            sa.update(Message).where(Message.id == message_id).values(lease_until=utcnow() + timedelta(hours=1))
        )
        db.session.commit()
    return message_id


class Tab(threading.Thread):
    """A page's stream, opened and read to its end in a thread of its own (as a server would run it)."""

    def __init__(self, client: FlaskClient, message_id: str) -> None:
        super().__init__(daemon=True)
        self._client, self._message_id = client, message_id
        self._opened = threading.Event()
        self.events: list[Any] = []
        self.start()
        assert self._opened.wait(10), "the stream did not open"

    def run(self) -> None:
        response = self._client.get(f"/messages/{self._message_id}/stream?after=3", buffered=False)
        self._opened.set()
        self.events = parse_sse(b"".join(response.response).decode())
        response.close()

    def ended(self, timeout: float = 10) -> list[str]:
        self.join(timeout)
        assert not self.is_alive(), "the stream is still open"
        return [event.event for event in self.events]


def finish(app: Flask, message_id: str, text: str) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Message).where(Message.id == message_id).values(status="complete", content=text, stream_seq=9)
        )
        db.session.commit()


def assert_ninth_stream_closes_the_oldest(app: Flask, client: FlaskClient, reply_id: str, ninth: FlaskClient) -> None:
    tabs = [Tab(client, reply_id) for _ in range(8)]
    tabs.append(Tab(ninth, reply_id))
    assert tabs[0].ended() == ["fallback"]
    bubble = tabs[0].events[0].data
    assert f'hx-get="/messages/{reply_id}"' in bubble and "sse-connect" not in bubble
    assert "Half of the answer" in bubble
    assert all(tab.is_alive() for tab in tabs[1:])  # the newest eight are still open
    finish(app, reply_id, "Half of the answer, and the rest.")
    assert all(tab.ended() == ["done"] for tab in tabs[1:])


@pytest.mark.timeout(30)
def test_a_ninth_stream_closes_the_users_oldest_with_a_fallback(app: Flask, client: FlaskClient, user: User) -> None:
    reply_id = streaming_reply(app, user, "Half of the answer")
    assert_ninth_stream_closes_the_oldest(app, client, reply_id, client)


def test_a_followed_reply_asks_for_itself_until_it_has_ended(app: Flask, client: FlaskClient, user: User) -> None:
    reply_id = streaming_reply(app, user, "Half of the answer")
    following = client.get(f"/messages/{reply_id}").get_data(as_text=True)
    assert f'hx-get="/messages/{reply_id}"' in following and "Half of the answer" in following
    finish(app, reply_id, "Half of the answer, and the rest.")
    ended = client.get(f"/messages/{reply_id}").get_data(as_text=True)
    assert "Half of the answer, and the rest." in ended
    assert not re.search(r"<article[^>]*hx-get=", ended) and "sse-connect" not in ended


@pytest.mark.timeout(30)
def test_another_users_streams_do_not_count(app: Flask, client: FlaskClient, user: User) -> None:
    reply_id = streaming_reply(app, user, "Half of the answer")
    tabs = [Tab(client, reply_id) for _ in range(8)]
    other = app.test_client()
    AuthActions(other).register(email="ben@example.com", name="Ben")
    with app.app_context():
        ben = db.session.scalar(sa.select(User).where(User.email == "ben@example.com"))
    other_reply = streaming_reply(app, ben, "Ben's answer")
    bens = Tab(other, other_reply)
    time.sleep(2.5)  # longer than a stream waits to look at its place
    finish(app, reply_id, "Half of the answer, ended.")
    finish(app, other_reply, "Ben's answer, ended.")
    assert all(tab.ended() == ["done"] for tab in [*tabs, bens])


def test_a_message_of_another_user_is_not_found(app: Flask, client: FlaskClient, user: User) -> None:
    reply_id = streaming_reply(app, user, "Half of the answer")
    other = app.test_client()
    AuthActions(other).register(email="ben@example.com", name="Ben")
    assert other.get(f"/messages/{reply_id}").status_code == 404


class TestAcrossProcesses:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        from ..unit.chat.test_broker import REDIS_URL, _redis_or_skip

        _redis_or_skip()
        return {"REDIS_URL": REDIS_URL}

    @pytest.mark.timeout(30)
    def test_a_stream_opened_in_another_process_closes_the_oldest(
        self, app: Flask, client: FlaskClient, user: User, database_url: str, app_config: dict[str, Any]
    ) -> None:
        second = make_app(database_url, **app_config)  # another process's app: its own memory
        try:
            other_client = second.test_client()
            AuthActions(other_client).login()
            reply_id = streaming_reply(app, user, "Half of the answer")
            assert_ninth_stream_closes_the_oldest(app, client, reply_id, other_client)
        finally:
            second.extensions["imports"].shutdown()
            second.extensions["chat.runner"].shutdown()
            with second.app_context():
                db.engine.dispose()
